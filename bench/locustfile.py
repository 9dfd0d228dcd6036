"""The day's mix for Locust (run by bench/load.py in its own venv; imports nothing of the app).

Who is on the registry on a working day, by weight: the public on the map (vector tiles around
a parcel, the map page, a search; 1-4 s between views), staff reading (searches, parcel and
lease records as API and pages; 2-6 s between), two managers on the KPI desk (10-30 s between),
and editors changing parcels with `If-Match`, some of them on an out-of-date version (a 412 is
the right answer there, counted as success; 3-10 s between edits). One health probe asks
`/healthz` four times a second throughout. The bench itself runs one import meanwhile.

`BENCH_LOAD_DATA` names a JSON file with the tokens, parcel ids, lease numbers and tiles to use.
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser
from locust import between
from locust import constant
from locust import task

with open(os.environ["BENCH_LOAD_DATA"], encoding="utf-8") as _data:
    DATA = json.load(_data)
_viewer_tokens = itertools.cycle(DATA["viewer_tokens"])
_editor_tokens = itertools.cycle(DATA["editor_tokens"])
_addresses = itertools.count(1)
SEARCHES = ["Main", "Ave", "St", "Blvd", "Park", "2512", "4614", "Library", "Fire", "Yard"]


class _User(FastHttpUser):
    """geventhttpclient, not requests: a fraction of the CPU per request, which on this machine
    is shared with the server it measures."""

    abstract = True
    headers: dict[str, str] = {}

    def get(self, path: str, name: str) -> None:
        self.client.get(path, name=name, headers=self.headers)


def _parcel() -> str:
    return str(random.choice(DATA["parcels"]))


class MapVisitor(_User):
    """An anonymous visitor, behind the city's proxy (X-Forwarded-For: their own address)."""

    weight = 4
    wait_time = between(1, 4)

    def on_start(self) -> None:
        n = next(_addresses)
        self.headers = {"X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}"}

    @task(8)
    def view_map_area(self) -> None:
        z, x, y = random.choice(DATA["tiles"])
        for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
            self.get(f"/tiles/parcels/{z}/{x + dx}/{y + dy}.mvt", "tile")

    @task(1)
    def open_map(self) -> None:
        self.get("/", "map page")

    @task(2)
    def search(self) -> None:
        self.get(f"/api/parcels?q={random.choice(SEARCHES)}&limit=20", "search")


class Staff(_User):
    """A signed-in reader (a viewer's API token)."""

    weight = 5
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(_viewer_tokens)}"}

    @task(4)
    def search(self) -> None:
        self.get(f"/api/parcels?q={random.choice(SEARCHES)}&limit=20", "search")

    @task(4)
    def parcel_api(self) -> None:
        self.get(f"/api/parcels/{_parcel()}", "parcel (API)")

    @task(3)
    def parcel_page(self) -> None:
        self.get(f"/parcels/{_parcel()}", "parcel page")

    @task(3)
    def lease_api(self) -> None:
        self.get(f"/api/leases/{random.choice(DATA['leases'])}", "lease (API)")

    @task(2)
    def lease_page(self) -> None:
        self.get(f"/leases/{random.choice(DATA['leases'])}", "lease page")


class Manager(_User):
    """Two managers on the KPI desk all day (its whole set costs ~1.4 s of one core)."""

    fixed_count = 2
    wait_time = between(10, 30)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(_viewer_tokens)}"}

    @task
    def kpi_desk(self) -> None:
        self.get("/kpi", "KPI desk")


class Editor(_User):
    """An editor changing parcels: read, then PATCH with If-Match; one in four sends the
    version read before (another editor's save came between): 412 expected."""

    weight = 1
    wait_time = between(3, 10)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {next(_editor_tokens)}"}

    @task
    def edit(self) -> None:
        parcel = str(random.choice(DATA["editable_parcels"]))
        read = self.client.get(f"/api/parcels/{parcel}", name="parcel (API)", headers=self.headers)
        etag = read.headers.get("ETag")
        if not etag:
            return
        version = etag.strip('"').removeprefix("v")
        # one edit in four is sent over the version before (another editor saved meanwhile)
        if random.random() < 0.25 and version.isdigit() and int(version) > 1:
            etag = f'"v{int(version) - 1}"'
        body = {
            "type": "Feature",
            "properties": {"address": f"{random.randint(1, 9999)} Bench Test St"},
        }
        with self.client.patch(
            f"/api/parcels/{parcel}",
            json=body,
            headers={**self.headers, "If-Match": etag},
            name="edit (PATCH)",
            catch_response=True,
        ) as response:
            if response.status_code == 412:
                # the right answer to a stale version (sent so, or another editor's save came
                # between the read and the write): counted apart, as a success
                response.request_meta["name"] = "edit: conflict (412)"
                response.success()
            elif response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")


class HealthProbe(_User):
    """The load balancer's probe: every answer must come under a second."""

    fixed_count = 1
    wait_time = constant(0.25)

    @task
    def healthz(self) -> None:
        self.get("/healthz", "/healthz")
