"""`make bench`: tile endpoint vs raw ST_AsMVT, and the map page's weight, at 2,000 and 100,000."""

from __future__ import annotations

import argparse
import time

from bench import page_weight, tiles
from bench.harness import machine, prepare_database, served_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--parcels", type=int, default=100_000, help="size of the large city")
    args = parser.parse_args()
    print(f"City Asset Registry benchmarks, {time.strftime('%Y-%m-%d')}, {machine()}")
    weights = {}
    for label, parcels in (("sample", None), (f"{args.parcels:,} parcels", args.parcels)):
        print(f"database: {label}")
        url = prepare_database(parcels)
        with served_app(url) as app_url:
            weights[label] = page_weight.page_weight(app_url)
            if parcels:
                report = tiles.run(url, app_url, str(parcels))
                print(f"tiles at {label} (endpoint over HTTP vs raw query on one connection):")
                print("\n".join(report.lines))
                report.save()
    report = page_weight.run(weights)
    print("map page weight:")
    print("\n".join(report.lines))
    report.save()


if __name__ == "__main__":
    main()
