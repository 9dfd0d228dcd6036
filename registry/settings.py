"""Settings shared by the web app, the CLI and the migrations, read from the environment.

`DATABASE_URL` and `SECRET_KEY` keep their conventional names; everything else is `REGISTRY_*`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/asset_registry"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "&copy; OpenStreetMap contributors"

# The storage SRID shapes the schema itself (column types), so the migrations and the models must
# agree on it before anything is built: it is read once, here, and fixed for the database's life.
STORAGE_SRID = int(os.environ.get("REGISTRY_STORAGE_SRID", "4326"))


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# The city is described by its profile in the database (registry.city.profile); these are the
# values the code assumed before it (and that migration 0009 seeds), used where nothing reads the
# profile yet. The environment's values, when given, override the profile.
# Los Angeles with a margin: a geometry outside is a typo or a wrong CRS, not a city parcel.
DEFAULT_CITY_EXTENT = (-118.95, 33.65, -117.95, 34.40)
# LA County assessor parcel numbers: map book, page, parcel.
DEFAULT_PARCEL_ID_PATTERN = r"^\d{4}-\d{3}-\d{3}$"
# Real city parcels rarely have more than a few thousand corners; a shape far beyond these is a
# digitizing accident (a traced raster, a densified survey) that would slow every map and KPI.
DEFAULT_MAX_VERTICES = 20_000
DEFAULT_MAX_PARTS = 500
# Combinations of KPI desk filters kept at each month end (registry.kpis.combinations): each
# costs a full compute_kpis there, so a sweep of every combination must not make it hours long.
DEFAULT_KPI_WATCHED_COMBINATIONS = 50
# The KPI set's families computed on this many connections at once, in one snapshot: each is a
# few statements over the whole portfolio, and PostgreSQL runs a statement on one core.
DEFAULT_KPI_CONNECTIONS = 2


def _extent(value: str | None) -> tuple[float, float, float, float]:
    if not value:
        return DEFAULT_CITY_EXTENT
    parts = [float(part) for part in value.split(",")]
    if len(parts) != 4 or parts[0] >= parts[2] or parts[1] >= parts[3]:
        raise ValueError("REGISTRY_CITY_EXTENT must be min_lon,min_lat,max_lon,max_lat")
    return (parts[0], parts[1], parts[2], parts[3])


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name) or default)
    if value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value}")
    return value


#: The settings that override the city profile when given, by their environment variable.
CITY_OVERRIDES = {
    "REGISTRY_CITY_EXTENT": "city_extent",
    "REGISTRY_PARCEL_ID_PATTERN": "parcel_id_pattern",
    "REGISTRY_FISCAL_YEAR_START_MONTH": "fiscal_year_start_month",
}


@dataclass(frozen=True)
class Settings:
    """`overrides` names the fields of CITY_OVERRIDES that were given (in the environment, or by
    `overriding`): only those override the city profile kept in the database."""

    database_url: str = DEFAULT_DATABASE_URL
    # a streaming standby of the primary for heavy reads (app.database says which); None: none
    database_read_url: str | None = None
    replica_max_lag_seconds: float = 30.0
    replica_retry_seconds: float = 5.0
    fiscal_year_start_month: int = 7
    basemap_url: str = OSM_TILES
    basemap_attribution: str = OSM_ATTRIBUTION
    public_map: bool = True
    public_kpis: bool = False  # REGISTRY_PUBLIC_KPIS: the read-only KPI page /kpi/public
    city_extent: tuple[float, float, float, float] = DEFAULT_CITY_EXTENT
    parcel_id_pattern: str = DEFAULT_PARCEL_ID_PATTERN
    council_districts: int = 15
    max_vertices: int = DEFAULT_MAX_VERTICES  # corners of one parcel or building shape
    max_parts: int = DEFAULT_MAX_PARTS  # polygons of one multi-polygon
    # REGISTRY_LOCAL_SRID: the city's projected CRS for GIS (e.g. 2229, California zone 5);
    # None: the UTM zone of the city's extent (registry.features.crs)
    local_srid: int | None = None
    # REGISTRY_KPI_WATCHED_COMBINATIONS: the most viewed combinations a month end keeps
    kpi_watched_combinations: int = DEFAULT_KPI_WATCHED_COMBINATIONS
    # REGISTRY_KPI_CONNECTIONS: database connections computing the KPI set at once
    # (registry.kpis.engine); 1: one, the caller's
    kpi_connections: int = DEFAULT_KPI_CONNECTIONS
    overrides: frozenset[str] = frozenset()

    def overriding(self, **values: Any) -> Settings:
        """A copy in which `values` (fields of CITY_OVERRIDES) override the city profile, as if
        they had been given in the environment."""
        unknown = set(values) - set(CITY_OVERRIDES.values())
        if unknown:
            raise ValueError(f"not a city-profile setting: {sorted(unknown)}")
        return dataclasses.replace(self, **values, overrides=self.overrides | set(values))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        month = int(env.get("REGISTRY_FISCAL_YEAR_START_MONTH", "7"))
        if not 1 <= month <= 12:
            raise ValueError(f"REGISTRY_FISCAL_YEAR_START_MONTH must be 1..12, not {month}")
        return cls(
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            database_read_url=env.get("DATABASE_READ_URL") or None,
            replica_max_lag_seconds=float(env.get("REGISTRY_REPLICA_MAX_LAG_SECONDS") or 30),
            replica_retry_seconds=float(env.get("REGISTRY_REPLICA_RETRY_SECONDS") or 5),
            fiscal_year_start_month=month,
            # An empty REGISTRY_BASEMAP_URL means "no base map": parcels over a blank background.
            basemap_url=env.get("REGISTRY_BASEMAP_URL", OSM_TILES),
            basemap_attribution=env.get("REGISTRY_BASEMAP_ATTRIBUTION", OSM_ATTRIBUTION),
            public_map=_flag(env.get("REGISTRY_PUBLIC_MAP"), True),
            public_kpis=_flag(env.get("REGISTRY_PUBLIC_KPIS"), False),
            city_extent=_extent(env.get("REGISTRY_CITY_EXTENT")),
            parcel_id_pattern=env.get("REGISTRY_PARCEL_ID_PATTERN") or DEFAULT_PARCEL_ID_PATTERN,
            council_districts=int(env.get("REGISTRY_COUNCIL_DISTRICTS", "15")),
            max_vertices=_positive(env, "REGISTRY_MAX_VERTICES", DEFAULT_MAX_VERTICES),
            max_parts=_positive(env, "REGISTRY_MAX_PARTS", DEFAULT_MAX_PARTS),
            local_srid=(
                _positive(env, "REGISTRY_LOCAL_SRID", 1) if env.get("REGISTRY_LOCAL_SRID") else None
            ),
            kpi_watched_combinations=_positive(
                env, "REGISTRY_KPI_WATCHED_COMBINATIONS", DEFAULT_KPI_WATCHED_COMBINATIONS
            ),
            kpi_connections=_positive(env, "REGISTRY_KPI_CONNECTIONS", DEFAULT_KPI_CONNECTIONS),
            overrides=frozenset(field for name, field in CITY_OVERRIDES.items() if env.get(name)),
        )
