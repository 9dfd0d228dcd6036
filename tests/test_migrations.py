from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy import inspect

from registry import database_admin
from registry.db import normalise_database_url
from registry.models import Base
from tests.sql import query


def _tables(url: str) -> set[str]:
    engine = create_engine(normalise_database_url(url))
    try:
        return set(inspect(engine).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trips(fresh_database_url: str) -> None:
    tables = _tables(fresh_database_url)
    assert {"parcels", "buildings", "departments", "users", "audit_events"} <= tables
    database_admin.downgrade(fresh_database_url, "base")
    assert _tables(fresh_database_url) == set()
    database_admin.upgrade(fresh_database_url)
    assert _tables(fresh_database_url) == tables


def test_upgrade_is_idempotent(fresh_database_url: str) -> None:
    database_admin.upgrade(fresh_database_url)
    database_admin.upgrade(fresh_database_url)
    assert "parcels" in _tables(fresh_database_url)


def test_models_and_migrations_do_not_differ(template_url: str) -> None:
    engine = create_engine(normalise_database_url(template_url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={"include_object": database_admin.include_object, "compare_type": True},
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_spatial_columns_are_indexed_multipolygons(template_url: str) -> None:
    columns = query(
        template_url,
        "SELECT f_table_name, f_geometry_column, type FROM geometry_columns ORDER BY 1, 2",
    )
    indexes = [
        name
        for (name,) in query(
            template_url, "SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%USING gist%'"
        )
    ]
    assert ("parcels", "geom", "MULTIPOLYGON") in columns
    assert ("buildings", "footprint", "MULTIPOLYGON") in columns
    assert {"ix_parcels_geom", "ix_parcels_geom_3857", "ix_buildings_footprint"} <= set(indexes)
