"""`make bench`: tiles vs raw ST_AsMVT, the map page's weight, parcel import vs ogr2ogr, and the
whole KPI set and portfolio XLSX export.

`python -m bench --only tiles|import|kpis|load|fuzz|ogc` runs one part (`load`: Locust, the day's
mix at 50 and 200 users, `--load-seconds` each; `fuzz`: schemathesis against the JSON API's
OpenAPI document, `--fuzz-examples` per operation; `ogc`: OGC API items by bbox against
pygeoapi and the raw SQL, bench/ogc.py; `table`: the parcel table's filter/sort/page requests,
bench/parcel_table.py); `--million` adds the 1,000,000-parcel
import with its peak memory (several minutes); `--only kpis --parcels 0` is a quick smoke run on
the shipped sample (printed, not saved).
"""

from __future__ import annotations

import argparse
import time

from bench import api_fuzz
from bench import kpis
from bench import load
from bench import ogc
from bench import page_weight
from bench import parcel_import
from bench import parcel_table
from bench import tiles
from bench.harness import machine
from bench.harness import prepare_database
from bench.harness import served_app


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
    parser.add_argument(
        "--parcels",
        type=int,
        default=100_000,
        help="size of the large city (kpis: 0 = the shipped sample, a smoke run)",
    )
    parser.add_argument(
        "--only",
        choices=("tiles", "import", "kpis", "load", "fuzz", "ogc", "table"),
        help="run one part only",
    )
    parser.add_argument(
        "--fuzz-examples",
        type=int,
        default=api_fuzz.DEFAULT_EXAMPLES,
        help="schemathesis examples per operation and mode",
    )
    parser.add_argument("--million", action="store_true", help="also import 1,000,000 parcels")
    parser.add_argument(
        "--load-seconds", type=int, default=40, help="length of each load-test level"
    )
    args = parser.parse_args()
    print(f"City Asset Registry benchmarks, {time.strftime('%Y-%m-%d')}, {machine()}")
    if args.only in (None, "tiles"):
        _tiles_and_page(args.parcels)
    if args.only in (None, "import"):
        report = parcel_import.run(args.parcels, 1_000_000 if args.million else None)
        print("parcel import:")
        print("\n".join(report.lines))
        report.save()
    if args.only in (None, "kpis"):
        report = kpis.run(args.parcels or None)
        print("reform KPI set and portfolio export:")
        print("\n".join(report.lines))
        if args.parcels:
            report.save()
    if args.only in (None, "table") and args.parcels:
        report = parcel_table.run(prepare_database(args.parcels), args.parcels)
        print(f"parcel table /parcels at {args.parcels:,} parcels (target < 300 ms):")
        print("\n".join(report.lines))
        report.save()
    if args.only in (None, "load"):
        report = load.run(args.load_seconds)
        print("load test, the day's mix (Locust):")
        print("\n".join(report.lines))
        report.save()
    if args.only in (None, "ogc"):
        report = ogc.run(args.parcels)
        print("OGC API items by bbox (ours vs pygeoapi, both under gunicorn; vs the raw SQL):")
        print("\n".join(report.lines))
        report.save()
    if args.only in (None, "fuzz"):
        report = api_fuzz.run(args.fuzz_examples)
        print("schemathesis against /api/openapi.json:")
        print("\n".join(report.lines))
        report.save()


if __name__ == "__main__":
    main()
