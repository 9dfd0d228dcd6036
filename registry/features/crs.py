"""The coordinate reference systems the features API speaks (OGC API – Features Part 2).

Four of them: CRS84 (longitude, latitude: the default and what GeoJSON means), EPSG:4326 (the same
datum, but latitude first, as the EPSG register defines its axes), EPSG:3857 (web maps) and the
city's own projected CRS, the UTM zone holding the centre of the city's extent (metres, for
measuring in desktop GIS). The profile keeps no projection of its own, and a UTM zone is what a
city without a state-plane preference measures in; the choice lives in `local_srid` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.settings import STORAGE_SRID

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


@dataclass(frozen=True)
class Crs:
    uri: str
    srid: int
    #: latitude (northing) before longitude (easting) in coordinates, as EPSG:4326 says
    lat_first: bool = False

    @property
    def geographic(self) -> bool:
        return self.srid == 4326

    @property
    def decimals(self) -> int:
        """Coordinates to 1 cm: 7 decimals of a degree, 2 of a metre."""
        return 7 if self.geographic else 2


class UnknownCrs(ValueError):
    """A `crs`, `bbox-crs` or `filter-crs` this API does not offer."""


def epsg_uri(srid: int) -> str:
    return f"{_EPSG}{srid}"


def local_srid(extent: tuple[float, float, float, float]) -> int:
    """The WGS 84 / UTM zone of the centre of `extent` (west, south, east, north in degrees)."""
    west, south, east, north = extent
    longitude, latitude = (west + east) / 2, (south + north) / 2
    zone = min(60, max(1, int((longitude + 180) // 6) + 1))
    return (32600 if latitude >= 0 else 32700) + zone


def supported_crs(
    extent: tuple[float, float, float, float], local: int | None = None
) -> tuple[Crs, ...]:
    """Every CRS the API answers in, the default first; `local` is the city's projected CRS
    when it names one (`REGISTRY_LOCAL_SRID`), else the UTM zone of its extent."""
    local = local or local_srid(extent)
    return (
        Crs(CRS84, 4326),
        Crs(epsg_uri(4326), 4326, lat_first=True),
        Crs(epsg_uri(3857), 3857),
        Crs(epsg_uri(local), local),
    )


def storage_crs_uri() -> str:
    return CRS84 if STORAGE_SRID == 4326 else epsg_uri(STORAGE_SRID)


def _normalised(uri: str) -> str:
    """Accept the URI, its `https` form, the `[EPSG:4326]` safe CURIE and `EPSG:4326`."""
    value = uri.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1]
    value = value.replace("https://", "http://")
    upper = value.upper()
    if upper.startswith("EPSG:"):
        return _EPSG + value[5:]
    if upper in {"CRS84", "OGC:CRS84"}:
        return CRS84
    return value


def find_crs(uri: str, offered: tuple[Crs, ...], parameter: str) -> Crs:
    """The offered CRS that `uri` names; `UnknownCrs` names the parameter and lists the offer."""
    wanted = _normalised(uri)
    for crs in offered:
        if crs.uri == wanted:
            return crs
    raise UnknownCrs(
        f"{parameter}: {uri[:200]!r} is not offered; use one of "
        + ", ".join(crs.uri for crs in offered)
    )


def to_storage(expression: str, crs: Crs) -> str:
    """SQL: a geometry `expression` given in `crs` (SRID set), brought to the storage SRID."""
    if crs.lat_first:
        expression = f"ST_FlipCoordinates({expression})"
    if crs.srid == STORAGE_SRID:
        return expression
    return f"ST_Transform({expression}, {STORAGE_SRID})"


def from_storage(expression: str, crs: Crs, web_mercator: str | None = None) -> str:
    """SQL: a storage geometry `expression` in `crs`; `web_mercator` is a stored 3857 copy."""
    if crs.srid == 3857 and web_mercator:
        return web_mercator
    if crs.srid != STORAGE_SRID:
        expression = f"ST_Transform({expression}, {crs.srid})"
    if crs.lat_first:
        expression = f"ST_FlipCoordinates({expression})"
    return expression
