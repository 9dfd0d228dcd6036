"""`make bench`: tiles vs raw ST_AsMVT, the map page's weight, and parcel import vs ogr2ogr.

`python -m bench --only tiles|import` runs one part; `--million` adds the 1,000,000-parcel import
with its peak memory (several minutes).
"""

from __future__ import annotations

import argparse
import time

from bench import page_weight, parcel_import, tiles
from bench.harness import machine, prepare_database, served_app


def _tiles_and_page(parcels: int) -> None:
    weights = {}
    for label, count in (("sample", None), (f"{parcels:,} parcels", parcels)):
        print(f"database: {label}")
        url = prepare_database(count)
        with served_app(url) as app_url:
            weights[label] = page_weight.page_weight(app_url)
            if count:
                report = tiles.run(url, app_url, str(count))
                print(f"tiles at {label} (endpoint over HTTP vs raw query on one connection):")
                print("\n".join(report.lines))
                report.save()
    report = page_weight.run(weights)
    print("map page weight (anonymous visitor):")
    print("\n".join(report.lines))
    report.save()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--parcels", type=int, default=100_000, help="size of the large city")
    parser.add_argument("--only", choices=("tiles", "import"), help="run one part only")
    parser.add_argument("--million", action="store_true", help="also import 1,000,000 parcels")
    args = parser.parse_args()
    print(f"City Asset Registry benchmarks, {time.strftime('%Y-%m-%d')}, {machine()}")
    if args.only in (None, "tiles"):
        _tiles_and_page(args.parcels)
    if args.only in (None, "import"):
        report = parcel_import.run(args.parcels, 1_000_000 if args.million else None)
        print("parcel import:")
        print("\n".join(report.lines))
        report.save()


if __name__ == "__main__":
    main()
