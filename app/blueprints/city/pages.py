"""The city page `/admin/city` (admins): the city profile (name, extent, fiscal year, parcel-id
formats, placeholder ids), departments with their aliases (add, rename, merge, import), council
district polygons and the city boundary (uploaded GIS files). Every change goes through the
registry's services in a unit of work, so the audit trail names the admin."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Blueprint
from flask import current_app
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response

from app.auth import actor_name
from app.auth import admin_roles
from app.auth import require_role
from app.blueprints.imports.uploads import upload_root
from app.city import current_city
from app.database import db_session
from app.database import session_factory
from geo.polygon_file import PolygonFileError
from geo.polygon_file import PolygonLayer
from geo.polygon_file import read_polygons
from geo.safe_open import FORMATS
from registry.city import departments as dept
from registry.city import profile as city
from registry.city.districts import DISTRICT_FIELDS
from registry.city.districts import DistrictShape
from registry.city.districts import district_numbers
from registry.city.districts import list_districts
from registry.city.districts import replace_districts
from registry.db import unit_of_work
from registry.fields import RecordInvalid
from registry.fields import whole_number

bp = Blueprint("city_admin", __name__, url_prefix="/admin/city")

GIS_FILES = tuple(suffix for suffix in FORMATS if suffix not in (".csv", ".xlsx", ".shp"))
ENVIRONMENT = {
    "extent": "REGISTRY_CITY_EXTENT",
    "id_formats": "REGISTRY_PARCEL_ID_PATTERN",
    "fiscal_year_start_month": "REGISTRY_FISCAL_YEAR_START_MONTH",
}


@bp.get("")
@require_role(*admin_roles)
def city_page() -> str:
    session = db_session()
    return render_template(
        "city/admin.html",
        city=current_city(),
        stored=city.stored_profile(session),
        environment=ENVIRONMENT,
        departments=dept.list_departments(session),
        districts=list_districts(session),
        district_numbers=district_numbers(session, current_app.config["REGISTRY_SETTINGS"]),
        gis_files=GIS_FILES,
    )


def _back(anchor: str) -> Response:
    return redirect(url_for("city_admin.city_page") + f"#{anchor}")


def _change(anchor: str, done: str, work: Callable[[Session], object]) -> Response:
    """Run `work` in a unit of work named after the admin; flash `done` or every problem."""
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            work(session)
    except RecordInvalid as invalid:
        flash(
            "Not saved: " + "; ".join(f"{p.field}: {p.message}" for p in invalid.problems), "error"
        )
    else:
        flash(done)
    return _back(anchor)


def _field(name: str) -> str:
    return request.form.get(name, "").strip()


def _number(name: str) -> float | None:
    try:
        return float(_field(name))
    except ValueError:
        return None


@bp.post("/profile")
@require_role(*admin_roles)
def save_profile() -> Response:
    box = tuple(_number(side) for side in ("west", "south", "east", "north"))
    month = _field("fiscal_year_start_month")
    if None in box or whole_number(month) is None:
        flash(
            "Not saved: the extent needs four numbers and the fiscal year a month (1-12).", "error"
        )
        return _back("profile")
    return _change(
        "profile",
        "Saved the city profile.",
        lambda session: city.update_city(
            session,
            name=_field("name"),
            extent=box,  # type: ignore[arg-type]
            fiscal_year_start_month=int(month),
        ),
    )


@bp.post("/id-formats")
@require_role(*admin_roles)
def add_id_format() -> Response:
    examples = [e for e in _field("examples").replace(";", ",").split(",") if e.strip()]
    return _change(
        "id-formats",
        f"Added the parcel-id format {_field('name')}.",
        lambda session: city.add_id_format(
            session, _field("name"), examples, _field("pattern"), _field("canonical") or None
        ),
    )


@bp.post("/departments")
@require_role(*admin_roles)
def add_department() -> Response:
    aliases = [a for a in _field("aliases").split(";") if a.strip()]
    return _change(
        "departments",
        f"Added {_field('code')}.",
        lambda session: dept.add_department(session, _field("code"), _field("name"), aliases),
    )


@bp.post("/departments/rename")
@require_role(*admin_roles)
def rename_department() -> Response:
    return _change(
        "departments",
        f"Renamed {_field('code')}.",
        lambda session: dept.rename_department(
            session,
            _field("code"),
            name=_field("name") or None,
            new_code=_field("new_code") or None,
        ),
    )


@bp.post("/departments/merge")
@require_role(*admin_roles)
def merge_departments() -> Response:
    def merge(session: Session) -> None:
        moved = dept.merge_departments(session, _field("old"), _field("into"))
        flash(
            f"{moved.parcels} parcels, {moved.leases} leases and {moved.occupancy} occupancy "
            "records moved."
        )

    return _change("departments", f"Merged {_field('old')} into {_field('into')}.", merge)


@dataclass(frozen=True)
class _FormChange:
    """A form whose fields, in order, go to one registry service after the session."""

    rule: str
    endpoint: str
    anchor: str  # the page's section to return to
    done: str  # flashed on success, formatted with the fields
    service: Callable[..., object]
    fields: tuple[str, ...]

    def view(self) -> Response:
        values = {name: _field(name) for name in self.fields}
        return _change(
            self.anchor,
            self.done.format(**values),
            lambda session: self.service(session, *values.values()),
        )


# The forms that only name what to add or remove: one view each, made from this table.
for _form in (
    _FormChange(
        "/id-formats/remove",
        "remove_id_format",
        "id-formats",
        "Removed the parcel-id format {name}.",
        city.remove_id_format,
        ("name",),
    ),
    _FormChange(
        "/placeholders",
        "add_placeholder",
        "id-formats",
        "{value} is a placeholder id.",
        city.add_placeholder,
        ("value",),
    ),
    _FormChange(
        "/placeholders/remove",
        "remove_placeholder",
        "id-formats",
        "{value} is no placeholder any more.",
        city.remove_placeholder,
        ("value",),
    ),
    _FormChange(
        "/aliases",
        "add_alias",
        "departments",
        "{alias} now names {code}.",
        dept.add_alias,
        ("alias", "code"),
    ),
    _FormChange(
        "/aliases/remove",
        "remove_alias",
        "departments",
        "Removed the alias {alias}.",
        dept.remove_alias,
        ("alias",),
    ),
):
    bp.add_url_rule(
        _form.rule, _form.endpoint, require_role(*admin_roles)(_form.view), methods=["POST"]
    )


@bp.post("/departments/import")
@require_role(*admin_roles)
def import_departments() -> Response:
    file = request.files.get("file")
    try:
        lines = file.read().decode("utf-8-sig").splitlines(keepends=True) if file else []
    except UnicodeDecodeError:
        lines = []
    if not lines:
        flash(
            "Not imported: choose a CSV file (UTF-8) with the columns code,name,aliases.", "error"
        )
        return _back("departments")

    def load(session: Session) -> None:
        counts = dept.import_departments(session, lines)
        flash(
            f"{counts.added} added, {counts.renamed} renamed, {counts.aliases_added} aliases "
            f"added, {counts.unchanged} unchanged."
        )

    return _change("departments", "Imported the departments.", load)


@contextmanager
def _uploaded_layer() -> Iterator[PolygonLayer]:
    """The uploaded GIS file's polygons; the file is deleted once read."""
    file = request.files.get("file")
    name = secure_filename(file.filename or "") if file else ""
    if not file or not name.lower().endswith(GIS_FILES):
        raise PolygonFileError(f"choose a GIS file: {', '.join(GIS_FILES)}")
    folder = upload_root() / f"city-{secrets.token_hex(8)}"
    folder.mkdir(parents=True)
    try:
        file.save(folder / name)
        yield read_polygons(folder / name, name=file.filename or name, srs=_field("srs") or None)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@bp.post("/districts")
@require_role(*admin_roles)
def import_districts() -> Response:
    try:
        with _uploaded_layer() as layer:
            number_field = layer.field(_field("field") or None, DISTRICT_FIELDS)
            name_field = layer.field(_field("name_field")) if _field("name_field") else None
    except PolygonFileError as unreadable:
        flash(f"Not imported: {unreadable}", "error")
        return _back("districts")
    if number_field is None:
        flash(
            "Not imported: name the field that holds the district number (the file's fields: "
            f"{', '.join(layer.fields)}).",
            "error",
        )
        return _back("districts")
    shapes = [
        DistrictShape(
            f.number, f.values[number_field], f.wkb, f.values[name_field] if name_field else None
        )
        for f in layer.features
    ]

    def replace(session: Session) -> None:
        result = replace_districts(session, shapes, layer.srid)
        flash(
            f"{result.districts} council districts; {result.parcels_changed} parcels changed "
            "district."
        )

    return _change("districts", "Imported the council districts.", replace)


@bp.post("/boundary")
@require_role(*admin_roles)
def import_boundary() -> Response:
    try:
        with _uploaded_layer() as layer:
            polygons = [feature.wkb for feature in layer.features]
    except PolygonFileError as unreadable:
        flash(f"Not imported: {unreadable}", "error")
        return _back("profile")
    return _change(
        "profile",
        "Kept the city boundary; the extent is taken from it.",
        lambda session: city.set_boundary(session, polygons, layer.srid),
    )
