"""A big parcel import drops the spatial indexes and turns nested loops off while it inserts;
folding its parcels into the kept overlap pairs (`parcel_overlaps`, migration 0027) then would
compare each new parcel with every other one (an hour at 94,000 parcels). The import defers the
fold (`registry.parcels.bulk_indexes.parcel_overlaps_folded_after`): its parcels are listed while
it inserts and folded in once the indexes are back, and the pairs come out exact."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from flask import Flask
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.database import session_factory
from registry.imports.parcels import ImportOptions
from registry.imports.parcels import import_parcels
from registry.imports.parcels import load
from registry.parcels.bulk_indexes import parcel_overlaps_folded_after
from tests.builders import parcel
from tests.parcel_fixtures import LAT
from tests.parcel_fixtures import LON
from tests.parcel_fixtures import add_departments
from tests.test_kpi_kept_overlaps import _FRESH_PAIRS
from tests.test_kpi_kept_overlaps import _KEPT_PAIRS
from tests.test_kpi_kept_overlaps import _STALE
from tests.test_kpi_kept_overlaps import _lot
from tests.test_kpi_kept_overlaps import _rows


def test_a_writer_that_defers_the_fold_lists_its_parcels_then_folds_them_in(
    db_session: Session,
) -> None:
    with parcel_overlaps_folded_after(db_session):
        db_session.add_all(
            [parcel("P-1", geometry=_lot(0.0)), parcel("P-2", geometry=_lot(0.0005))]
        )
        db_session.flush()
        assert db_session.execute(text(_STALE)).scalar() == 2  # listed, not folded
        assert _rows(db_session, _KEPT_PAIRS) == []
    assert db_session.execute(text(_STALE)).scalar() == 0
    assert _rows(db_session, _KEPT_PAIRS) == _rows(db_session, _FRESH_PAIRS) != []


def test_an_import_big_enough_to_drop_the_indexes_folds_its_parcels_in_after(
    app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_departments(app)
    step, lots = 0.001, []
    for i in range(6):  # a row of lots, each overlapping the next by a sliver (~0.5 m²)
        west = LON + i * (step - 0.0000005)
        lots.append(
            {
                "APN": f"5056-011-90{i}",
                "SITE_ADDR": f"{i} Main St",
                "DEPT": "GSD",
                "geometry": box(west, LAT, west + step, LAT + 0.00005),
            }
        )
    path = tmp_path / "parcels.gpkg"
    gpd.GeoDataFrame(lots, geometry="geometry", crs="EPSG:4326").to_file(path)
    dropped: list[bool] = []
    monkeypatch.setattr(load, "worth_rebuilding", lambda *args: dropped.append(True) or True)
    listed_while_inserting: list[int] = []
    write = load._rows_written

    def written(session: Session, statement: object) -> int:
        count = write(session, statement)  # type: ignore[arg-type]
        listed_while_inserting.append(int(session.execute(text(_STALE)).scalar_one()))
        return count

    monkeypatch.setattr(load, "_rows_written", written)
    with app.app_context():
        report = import_parcels(
            session_factory(), path, ImportOptions(), app.config["REGISTRY_SETTINGS"], "t"
        )
        with session_factory()() as session:
            kept = _rows(session, _KEPT_PAIRS)
            assert session.execute(text(_STALE)).scalar() == 0
            assert kept == _rows(session, _FRESH_PAIRS)
            indexes = session.execute(
                text(
                    "SELECT count(*) FROM pg_indexes WHERE tablename = 'parcels' "
                    "AND indexdef LIKE '%USING gist%'"
                )
            ).scalar()
    assert not [p.message for p in report.problems if p.severity == "error"]
    assert dropped
    assert len(kept) == 5
    assert listed_while_inserting[-1] == 6, "the insert without indexes listed, did not fold"
    assert indexes
