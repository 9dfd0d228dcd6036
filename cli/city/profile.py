"""`asset-registry city`: the city profile (name, extent, boundary, parcel-id formats,
placeholder ids, fiscal year). Every change is audited under `--actor`."""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.city.common import actor_option
from cli.city.common import city_session
from cli.city.common import polygon_file_argument
from cli.city.common import polygon_file_options
from cli.city.common import service_command
from registry.settings import Settings

if TYPE_CHECKING:
    from registry.city.profile import CityProfile

# CityProfile.overridden's names → the variable that overrides them
_OVERRIDDEN_BY = {
    "extent": "REGISTRY_CITY_EXTENT",
    "id_formats": "REGISTRY_PARCEL_ID_PATTERN",
    "fiscal_year_start_month": "REGISTRY_FISCAL_YEAR_START_MONTH",
}


def parse_extent(value: str | None) -> tuple[float, float, float, float] | None:
    """`west,south,east,north` in degrees; a malformed one is a usage error."""
    if value is None:
        return None
    try:
        parts = [float(part) for part in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4:
        raise click.BadParameter(
            "expected four numbers: west,south,east,north (degrees)", param_hint="--extent"
        )
    return (parts[0], parts[1], parts[2], parts[3])


def _note(profile: CityProfile, field: str) -> str:
    return (
        f" (set by {_OVERRIDDEN_BY[field]}, which overrides the profile)"
        if field in profile.overridden
        else ""
    )


@click.group()
def city() -> None:
    """The city the registry describes: name, extent, parcel-id formats, fiscal year."""


@city.command("show")
def city_show() -> None:
    """Print the city profile in force (with the environment's overrides)."""
    from registry.city.districts import district_numbers
    from registry.city.districts import list_districts
    from registry.city.profile import city_profile

    settings = Settings.from_env()
    with city_session() as session:
        profile = city_profile(session, settings)
        districts = list_districts(session)
        numbers = district_numbers(session, settings)
    month = profile.fiscal_year_start_month
    click.echo(f"name: {profile.name}")
    click.echo(f"extent: {','.join(f'{v:g}' for v in profile.extent)}{_note(profile, 'extent')}")
    click.echo(f"boundary: {'kept' if profile.has_boundary else 'none'}")
    click.echo(
        f"fiscal year starts: {calendar.month_name[month]} ({month})"
        f"{_note(profile, 'fiscal_year_start_month')}"
    )
    click.echo(f"parcel-id formats{_note(profile, 'id_formats')}:")
    for id_format in profile.id_formats:
        spelled = (
            f"; other spellings regrouped as {id_format.canonical}" if id_format.canonical else ""
        )
        click.echo(f"  {id_format.described()}{spelled}")
    click.echo(f"placeholder ids: {', '.join(profile.placeholder_ids) or 'none'}")
    if districts:
        click.echo(
            "council districts: "
            + ", ".join(f"{d.district} ({d.parcels} parcels)" for d in districts)
        )
    else:
        click.echo(
            f"council districts: {numbers[0]} to {numbers[-1]} (no polygons: "
            "asset-registry districts import FILE)"
        )


@city.command("set")
@click.option("--name", default=None, help="The city's name.")
@click.option(
    "--extent", default=None, metavar="W,S,E,N", help="Longitude/latitude box a parcel must lie in."
)
@click.option(
    "--fiscal-year-start",
    "fiscal_year_start",
    type=click.IntRange(1, 12),
    default=None,
    help="First month of the fiscal year (1-12).",
)
@actor_option
def city_set(
    name: str | None, extent: str | None, fiscal_year_start: int | None, actor: str
) -> None:
    """Change the city's name, extent or fiscal-year start."""
    from registry.city.profile import update_city

    box = parse_extent(extent)
    if name is None and box is None and fiscal_year_start is None:
        raise click.UsageError("give --name, --extent or --fiscal-year-start")
    with city_session(actor) as session:
        update_city(session, name=name, extent=box, fiscal_year_start_month=fiscal_year_start)
    click.echo("city profile saved")
    overrides = Settings.from_env().overrides
    for given, field, variable in (
        (box, "city_extent", "REGISTRY_CITY_EXTENT"),
        (fiscal_year_start, "fiscal_year_start_month", "REGISTRY_FISCAL_YEAR_START_MONTH"),
    ):
        if given is not None and field in overrides:
            click.echo(f"note: {variable} is set and overrides this value")


@city.group("boundary")
def boundary() -> None:
    """The city's boundary polygon (the extent is taken from it)."""


@boundary.command("import")
@polygon_file_argument
@polygon_file_options
def boundary_import(file: Path, srs: str | None, layer: str | None, actor: str) -> None:
    """Keep the city's boundary from a GIS file and take the extent from it."""
    from geo.polygon_file import PolygonFileError
    from geo.polygon_file import read_polygons
    from registry.city.profile import set_boundary

    try:
        polygons = read_polygons(file, layer=layer, srs=srs)
    except PolygonFileError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    with city_session(actor) as session:
        extent = set_boundary(session, [f.wkb for f in polygons.features], polygons.srid)
    click.echo(
        f"boundary kept ({len(polygons.features)} polygons); extent "
        f"{','.join(f'{v:g}' for v in extent)}"
    )


@city.group("id-format")
def id_format() -> None:
    """The parcel-id formats the city accepts (several may be valid at once)."""


@id_format.command("add")
@click.argument("name")
@click.option(
    "--example",
    "examples",
    multiple=True,
    required=True,
    help="An id written in the format (repeat for several); messages show them.",
)
@click.option(
    "--pattern",
    required=True,
    help="Regular expression of the format's canonical spelling (never shown).",
)
@click.option(
    "--canonical",
    default=None,
    metavar="TEMPLATE",
    help="Regroup other spellings into this template: # a digit, @ a letter, * "
    "either (e.g. ####-###-### turns 5056011903 into 5056-011-903).",
)
@actor_option
def id_format_add(
    name: str, examples: tuple[str, ...], pattern: str, canonical: str | None, actor: str
) -> None:
    """Accept one more parcel-id format, tried after the others."""
    from registry.city.profile import add_id_format

    with city_session(actor) as session:
        added = add_id_format(session, name, examples, pattern, canonical)
    click.echo(f"added {added.described()}")


@id_format.command("list")
def id_format_list() -> None:
    """The formats in force, in the order they are tried."""
    from registry.city.profile import city_profile

    with city_session() as session:
        profile = city_profile(session, Settings.from_env())
    for number, found in enumerate(profile.id_formats, start=1):
        click.echo(f"{number}. {found.described()}")


service_command(
    id_format,
    "remove",
    "registry.city.profile.remove_id_format",
    "removed {name}",
    {"name": "NAME"},
    help="Stop accepting a format (ids kept before are left as they are).",
)


@city.group("placeholder")
def placeholder() -> None:
    """Ids that stand for "no id" in the city's files (UNKNOWN, 000-000)."""


service_command(
    placeholder,
    "add",
    "registry.city.profile.add_placeholder",
    "{value} is a placeholder",
    {"value": "ID"},
)
service_command(
    placeholder,
    "remove",
    "registry.city.profile.remove_placeholder",
    "{value} is no placeholder any more",
    {"value": "ID"},
)
