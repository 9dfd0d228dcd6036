"""`asset-registry districts`: the council districts as polygons, from a GIS file. Importing
replaces the districts kept before and derives every parcel's district from its shape."""

from __future__ import annotations

from pathlib import Path

import click

from cli.city.common import city_session
from cli.city.common import polygon_file_argument
from cli.city.common import polygon_file_options


@click.group()
def districts() -> None:
    """Council district polygons."""


@districts.command("import")
@polygon_file_argument
@click.option(
    "--field",
    default=None,
    help="Field holding the district number (default: DISTRICT, CD, WARD…).",
)
@click.option("--name-field", default=None, help="Field holding the district's name.")
@polygon_file_options
def districts_import(
    file: Path,
    field: str | None,
    name_field: str | None,
    srs: str | None,
    layer: str | None,
    actor: str,
) -> None:
    """Replace the council districts with the polygons of FILE."""
    from geo.polygon_file import PolygonFileError
    from geo.polygon_file import read_polygons
    from registry.city.districts import DISTRICT_FIELDS
    from registry.city.districts import DistrictShape
    from registry.city.districts import replace_districts

    try:
        polygons = read_polygons(file, layer=layer, srs=srs)
        number_field = polygons.field(field, DISTRICT_FIELDS)
        names = polygons.field(name_field) if name_field else None
    except PolygonFileError as error:
        raise click.BadParameter(str(error), param_hint="FILE") from error
    if number_field is None:
        raise click.UsageError(
            f"{file.name}: name the field with the district number "
            f"(--field); the fields are {', '.join(polygons.fields)}"
        )
    shapes = [
        DistrictShape(f.number, f.values[number_field], f.wkb, f.values[names] if names else None)
        for f in polygons.features
    ]
    with city_session(actor) as session:
        result = replace_districts(session, shapes, polygons.srid)
    click.echo(
        f"{file.name}: {result.districts} council districts; "
        f"{result.parcels_changed} parcels changed district"
    )


@districts.command("list")
def districts_list() -> None:
    """The districts kept as polygons, with their parcels."""
    from registry.city.districts import list_districts

    with city_session() as session:
        found = list_districts(session)
    if not found:
        click.echo("no council district polygons (asset-registry districts import FILE)")
    for district in found:
        click.echo(f"{district.district}\t{district.name}\t{district.parcels} parcels")
