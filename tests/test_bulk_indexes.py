from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

from registry.parcels.bulk_indexes import secondary_indexes_rebuilt
from registry.parcels.bulk_indexes import worth_rebuilding

_INDEXES = (
    "SELECT i.relname, am.amname, pg_get_indexdef(i.oid) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam "
    "WHERE x.indrelid = 'parcels'::regclass ORDER BY 1"
)


def test_the_indexes_come_back_exactly_as_they_were(db_session: Session) -> None:
    """Every index is back as it was; during the load only those backing a constraint (the
    primary key, unique parcel ids) stay, the spatial, trigram and sort indexes are gone."""
    before = db_session.execute(text(_INDEXES)).all()
    with secondary_indexes_rebuilt(db_session, "parcels"):
        assert [name for name, *_ in db_session.execute(text(_INDEXES))] == [
            "pk_parcels",
            "uq_parcels_parcel_id",
        ]
        db_session.execute(
            text(
                "INSERT INTO parcels (parcel_id, geom) SELECT '5555-012-' || lpad(n::text, 3, "
                "'0'), "
                "ST_Multi(ST_MakeEnvelope(-118.25 + n * 0.001, 34.05, -118.2495 + n * 0.001, "
                "34.0505, 4326)) FROM generate_series(1, 50) n"
            )
        )
    assert db_session.execute(text(_INDEXES)).all() == before
    kinds = {name: kind for name, kind, _ in before}
    assert kinds["ix_parcels_geom"] == kinds["ix_parcels_geom_3857"] == "gist"
    assert kinds["ix_parcels_address_trgm"] == kinds["ix_parcels_parcel_id_trgm"] == "gin"
    found = db_session.execute(
        text(
            "SELECT count(*) FROM parcels WHERE geom && ST_MakeEnvelope(-118.26, 34.04, -118.19, "
            "34.06, 4326)"
        )
    ).scalar_one()
    assert found == 50


def test_only_a_load_bigger_than_the_table_is_worth_a_rebuild(db_session: Session) -> None:
    db_session.execute(text("ANALYZE parcels"))
    assert worth_rebuilding(db_session, "parcels", 50_000)
    assert not worth_rebuilding(db_session, "parcels", 500)
