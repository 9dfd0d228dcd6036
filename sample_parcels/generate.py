"""Rewrite the shipped sample files: ``python -m sample_parcels.generate``.

departments.csv, parcels.geojson and buildings.geojson next to this module are the
default portfolio (2,400 parcels, seed 2026). GeoJSON has no date or decimal types, so
dates are written as ISO strings and money as exact decimal strings;
``read_shipped_portfolio`` turns them back.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import geopandas as gpd
import pandas as pd

from sample_parcels.generator import DATE_COLUMNS
from sample_parcels.generator import DEFAULT_SEED
from sample_parcels.generator import MONEY_COLUMNS
from sample_parcels.generator import SAMPLE_PARCEL_COUNT
from sample_parcels.generator import SHIPPED_DIRECTORY
from sample_parcels.generator import Portfolio
from sample_parcels.generator import generate_portfolio

COORDINATE_PRECISION = 7  # ~1 cm; keeps parcels.geojson around a megabyte


def _as_text(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Dates and Decimals as strings (None stays null)."""
    out = frame.copy()
    for col in (*DATE_COLUMNS, *MONEY_COLUMNS):
        if col in out:
            text = [
                None if v is None else (v.isoformat() if col in DATE_COLUMNS else str(v))
                for v in out[col]
            ]
            out[col] = pd.Series(text, index=out.index, dtype=object)
    return out


def write_portfolio(portfolio: Portfolio, directory: Path) -> list[Path]:
    """Write the three files into ``directory`` and return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / n for n in ("departments.csv", "parcels.geojson", "buildings.geojson")]
    portfolio.departments.to_csv(paths[0], index=False, lineterminator="\n")
    for frame, path in zip((portfolio.parcels, portfolio.buildings), paths[1:], strict=True):
        path.unlink(missing_ok=True)
        _as_text(frame).to_file(
            path,
            driver="GeoJSON",
            engine="pyogrio",
            index=False,
            layer_options={"COORDINATE_PRECISION": COORDINATE_PRECISION, "WRITE_BBOX": "NO"},
        )
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=SAMPLE_PARCEL_COUNT)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=SHIPPED_DIRECTORY)
    args = parser.parse_args(argv)
    portfolio = generate_portfolio(args.parcels, args.seed)
    for path in write_portfolio(portfolio, args.out):
        print(f"{path}  {path.stat().st_size / 1024:,.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
