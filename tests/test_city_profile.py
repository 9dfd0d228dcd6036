"""The city profile kept in the database: Los Angeles as seeded, another city set up without code
changes, parcel ids named by their format and example (never a regular expression), spellings
of one id, departments with aliases and merges, districts derived from shapes, and the
environment's overrides."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.districts import district_areas
from registry.city.departments import DepartmentInvalid
from registry.city.departments import add_alias
from registry.city.departments import add_department
from registry.city.departments import find_department
from registry.city.departments import import_departments
from registry.city.departments import list_departments
from registry.city.departments import merge_departments
from registry.city.departments import rename_department
from registry.city.departments import resolve_department
from registry.city.districts import DistrictShape
from registry.city.districts import DistrictsInvalid
from registry.city.districts import district_number
from registry.city.districts import district_numbers
from registry.city.districts import replace_districts
from registry.city.ids import canonical_parcel_id
from registry.city.ids import id_problem
from registry.city.ids import regroup
from registry.city.profile import CityProfileInvalid
from registry.city.profile import add_id_format
from registry.city.profile import city_profile
from registry.city.profile import stored_profile
from registry.city.profile import update_city
from registry.db import set_actor
from registry.leases.records import create_lease
from registry.parcels.records import ParcelChange
from registry.parcels.records import create_parcel
from registry.parcels.records import update_parcel
from registry.parcels.validation import ParcelInvalid
from registry.settings import DEFAULT_CITY_EXTENT
from registry.settings import Settings
from tests.city_fixtures import BORDER_1_2
from tests.city_fixtures import MAP_LOT_EXAMPLES
from tests.city_fixtures import PORTLAND
from tests.city_fixtures import box
from tests.city_fixtures import district_of
from tests.city_fixtures import district_shapes
from tests.city_fixtures import set_up_portland
from tests.lease_fixtures import worked_example

SETTINGS = Settings()
LA_SQUARE = box(-118.25, 34.05)
# what a regular expression looks like in a message: anchors, classes, quantifiers, escapes
REGEX_SYNTAX = re.compile(r"[\\^$]|\[|\{\d|\(\?|\\d")


def _create(session: Session, parcel_id: str, geometry: Any = None, **properties: Any) -> str:
    return create_parcel(
        session,
        ParcelChange(
            {"parcel_id": parcel_id, **properties}, geometry if geometry is not None else LA_SQUARE
        ),
        SETTINGS,
    )


def _problems(session: Session, parcel_id: str, geometry: Any = None) -> dict[str, str]:
    with pytest.raises(ParcelInvalid) as refused:
        _create(session, parcel_id, geometry)
    return {p.field: p.message for p in refused.value.problems}


# Los Angeles, as the code assumed before the profile existed


def test_the_registry_starts_as_los_angeles(db_session: Session) -> None:
    profile = city_profile(db_session, SETTINGS)
    assert profile.name == "Los Angeles"
    assert profile.extent == DEFAULT_CITY_EXTENT  # exact to the bit
    assert [f.name for f in profile.id_formats] == ["LA County APN"]
    assert profile.id_formats[0].examples == ("5056-011-903",)
    assert profile.fiscal_year_start_month == 7
    assert {"N/A", "TBD", "UNKNOWN"} <= set(profile.placeholder_ids)
    assert profile.overridden == frozenset()


@pytest.mark.parametrize(
    "spelling", ["5056011903", "5056-011-903", " 5056 011 903 ", "5056.011.903"]
)
def test_an_ain_is_another_spelling_of_the_apn(db_session: Session, spelling: str) -> None:
    assert canonical_parcel_id(city_profile(db_session, SETTINGS), spelling) == "5056-011-903"


def test_an_ain_names_the_same_parcel(db_session: Session) -> None:
    assert _create(db_session, "5056011903") == "5056-011-903"
    assert _problems(db_session, "5056011903", box(-118.20, 34.05)) == {
        "parcel_id": "5056-011-903 is already in the registry"
    }


@pytest.mark.parametrize("value", ["127-1234", "5056-011-90", "5056-011-903-1", "ABCD-EFG-HIJ"])
def test_a_malformed_id_is_named_by_its_format_and_example(db_session: Session, value: str) -> None:
    message = id_problem(city_profile(db_session, SETTINGS), value)
    assert message == (
        f"{value!r} is not a parcel id of this city: expected LA County APN, e.g. 5056-011-903"
    )
    assert _problems(db_session, value) == {"parcel_id": message}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("UNKNOWN", "placeholder"),
        ("n/a", "placeholder"),
        ("0000-000-000", "placeholder"),
        ("---", "placeholder"),
        ("6.03E+09", "scientific notation"),
    ],
)
def test_placeholders_and_spreadsheet_numbers_are_said_to_be_so(
    db_session: Session, value: str, says: str
) -> None:
    message = id_problem(city_profile(db_session, SETTINGS), value)
    assert message is not None and says in message and not REGEX_SYNTAX.search(message)


def test_regrouping_fills_a_template_slot_by_slot() -> None:
    assert regroup("####-###-###", "5056011903") == "5056-011-903"
    assert regroup("####-###-###", "505601190") is None
    assert regroup("##@-##", "12b 34") == "12B-34"
    assert regroup("##@-##", "123-45") is None


# Another city, set up without code changes


def test_portland_is_set_up_through_the_services(db_session: Session) -> None:
    set_up_portland(db_session)
    profile = city_profile(db_session, SETTINGS)
    assert profile.name == "Portland" and profile.has_boundary
    west, south, east, north = profile.extent  # the boundary's box and a margin
    assert west < -70.26744 < -70.252654 < east and south < 43.654573 < 43.665456 < north
    assert east - west < 0.03
    assert [(f.name, f.examples) for f in profile.id_formats] == [("Map-Lot", MAP_LOT_EXAMPLES)]
    assert {"000-000", "UNKNOWN"} <= set(profile.placeholder_ids)
    assert district_numbers(db_session, SETTINGS) == (1, 2, 3, 4, 5)


@pytest.mark.parametrize("value", ["127-123", "268B-41", "267E-17", "120E-05"])
def test_map_lots_are_parcel_ids_there_even_those_that_look_like_numbers(
    db_session: Session, value: str
) -> None:
    set_up_portland(db_session)
    profile = city_profile(db_session, SETTINGS)
    assert canonical_parcel_id(profile, value) == value
    assert id_problem(profile, value) is None


def test_portland_messages_name_the_map_lot_format_and_its_examples(db_session: Session) -> None:
    set_up_portland(db_session)
    problems = _problems(db_session, "5056-011-903", box(-70.2630))
    assert problems == {
        "parcel_id": "'5056-011-903' is not a parcel id of this city: expected "
        "Map-Lot, e.g. 127-123, 268B-41 or 267E-17"
    }
    placeholder = _problems(db_session, "000-000", box(-70.2630))["parcel_id"]
    assert placeholder == "'000-000' is a placeholder, not a parcel id"
    outside_la = _create(db_session, "127-123", box(-70.2630))  # LA's extent no longer applies
    assert outside_la == "127-123"
    in_la = _problems(db_session, "127-124", LA_SQUARE)
    assert "outside the city's extent" in in_la["geometry"]


def test_several_formats_are_valid_at_once(db_session: Session) -> None:
    add_id_format(db_session, "Map-Lot", MAP_LOT_EXAMPLES, r"^\d{3}[A-E]?-\d+$")
    profile = city_profile(db_session, SETTINGS)
    assert canonical_parcel_id(profile, "268B-41") == "268B-41"
    assert canonical_parcel_id(profile, "5056011903") == "5056-011-903"
    message = id_problem(profile, "x1")
    assert message == (
        "'x1' is not a parcel id of this city: expected LA County APN "
        "(e.g. 5056-011-903) or Map-Lot (e.g. 127-123, 268B-41 or 267E-17)"
    )


@pytest.mark.parametrize(
    ("examples", "pattern", "says"),
    [
        ((), r"^\d+$", "at least one example"),
        (("12-3",), r"^\d+$", "not written in the format"),
        (("12",), r"^(\d+$", "not a regular expression"),
    ],
)
def test_a_format_must_compile_and_accept_its_examples(
    db_session: Session, examples: tuple[str, ...], pattern: str, says: str
) -> None:
    with pytest.raises(CityProfileInvalid) as refused:
        add_id_format(db_session, "Lot", examples, pattern)
    assert says in str(refused.value)


def test_a_bad_extent_or_month_is_refused_with_every_problem(db_session: Session) -> None:
    with pytest.raises(CityProfileInvalid) as refused:
        update_city(db_session, name=" ", extent=(10, 5, 0, 6), fiscal_year_start_month=13)
    assert {p.field for p in refused.value.problems} == {
        "name",
        "extent",
        "fiscal_year_start_month",
    }


# The environment's overrides


def test_settings_given_in_the_environment_override_the_profile(db_session: Session) -> None:
    set_up_portland(db_session)
    settings = Settings.from_env(
        {
            "REGISTRY_CITY_EXTENT": "-1,-1,1,1",
            "REGISTRY_PARCEL_ID_PATTERN": r"^P\d+$",
            "REGISTRY_FISCAL_YEAR_START_MONTH": "10",
        }
    )
    profile = city_profile(db_session, settings)
    assert profile.extent == (-1, -1, 1, 1)
    assert profile.fiscal_year_start_month == 10
    assert profile.overridden == {"extent", "id_formats", "fiscal_year_start_month"}
    assert canonical_parcel_id(profile, "P12") == "P12"
    assert canonical_parcel_id(profile, "127-123") is None
    assert id_problem(profile, "127-123") == (
        "'127-123' is not a parcel id of this city: expected the configured parcel-id format"
    )
    assert stored_profile(db_session).fiscal_year_start_month == 7
    assert city_profile(db_session, Settings.from_env({})).overridden == frozenset()


def test_an_override_given_in_code_counts_as_given(db_session: Session) -> None:
    settings = Settings().overriding(fiscal_year_start_month=1)
    assert city_profile(db_session, settings).fiscal_year_start_month == 1
    with pytest.raises(ValueError, match="not a city-profile setting"):
        Settings().overriding(public_map=False)


# Departments and their aliases


def _la_departments(session: Session) -> None:
    with (PORTLAND.parent / "la_nonprofit_leases" / "departments.csv").open(
        encoding="utf-8", newline=""
    ) as lines:
        import_departments(session, lines)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("HCID", "LAHD"),
        ("Rec&Parks", "RAP"),
        ("DOT", "LADOT"),
        ("Cultural Affairs", "DCA"),
        ("lahd", "LAHD"),
        ("  recreation   and parks ", "RAP"),
    ],
)
def test_aliases_codes_and_names_resolve(db_session: Session, value: str, code: str) -> None:
    _la_departments(db_session)
    match = resolve_department(db_session, value)
    assert (match.code, match.uncertain) == (code, False)
    assert find_department(db_session, value)[0] == match.department_id


def test_a_doubted_value_resolves_but_is_flagged_uncertain(db_session: Session) -> None:
    _la_departments(db_session)
    match = resolve_department(db_session, "GSD?")
    assert (match.code, match.uncertain) == ("GSD", True)
    # callers that cannot carry the doubt are given a suggestion, not a silent match
    assert find_department(db_session, "GSD?") == (None, "GSD")
    typo = resolve_department(db_session, "Cutural Affairs")
    assert (typo.department_id, typo.nearest) == (None, "Cultural Affairs")


def test_the_portland_csv_is_imported_with_its_aliases_and_again_changes_nothing(
    db_session: Session,
) -> None:
    path = PORTLAND / "departments.csv"
    with path.open(encoding="utf-8", newline="") as lines:
        first = import_departments(db_session, lines)
    # 12 aliases, but "Jetport" is the code JETPORT already (names are compared in any case)
    assert (first.added, first.aliases_added) == (8, 11)
    assert resolve_department(db_session, "Jetport").code == "JETPORT"
    parks = next(d for d in list_departments(db_session) if d.code == "PARKS")
    assert parks.name == "Parks, Recreation & Facilities"
    assert set(parks.aliases) == {"Parks & Rec", "Parks Department"}
    with path.open(encoding="utf-8", newline="") as lines:
        again = import_departments(db_session, lines)
    assert (again.added, again.renamed, again.aliases_added, again.unchanged) == (0, 0, 0, 8)


def test_a_bad_csv_is_refused_with_every_row_named(db_session: Session) -> None:
    lines = [
        "code,name,aliases\n",
        "A,Alpha,\n",
        ",Nameless,\n",
        "A,Again,\n",
        "TOO_LONG_A_CODE_X,Beta,\n",
    ]
    with pytest.raises(DepartmentInvalid) as refused:
        import_departments(db_session, lines)
    assert [p.field for p in refused.value.problems] == ["row 2 code", "row 3 code", "row 4 code"]
    assert list_departments(db_session) == []


def test_a_rename_keeps_the_former_code_and_name_as_aliases(db_session: Session) -> None:
    add_department(db_session, "HCID", "Housing and Community Investment")
    rename_department(db_session, "HCID", new_code="LAHD", name="Los Angeles Housing Department")
    (lahd,) = list_departments(db_session)
    assert (lahd.code, set(lahd.aliases)) == ("LAHD", {"HCID", "Housing and Community Investment"})
    assert resolve_department(db_session, "HCID").code == "LAHD"


def test_an_alias_cannot_name_two_departments(db_session: Session) -> None:
    _la_departments(db_session)
    with pytest.raises(DepartmentInvalid, match="is an alias of LAHD already"):
        add_alias(db_session, "hcid", "GSD")
    with pytest.raises(DepartmentInvalid, match="is department GSD already"):
        add_alias(db_session, "General Services", "RAP")


def _audit(session: Session, table: str, key: str) -> list[tuple[str, str]]:
    return [
        (row.action, row.actor)
        for row in session.execute(
            text(
                "SELECT action, actor FROM audit_events WHERE table_name = :t AND row_key = :k "
                "ORDER BY id"
            ),
            {"t": table, "k": key},
        )
    ]


def test_a_merge_moves_every_record_keeps_verification_and_is_audited(db_session: Session) -> None:
    set_actor(db_session, "merger@city.example")
    add_department(db_session, "LAHD", "Los Angeles Housing Department")
    add_department(db_session, "HCID", "Housing and Community Investment", ["Housing Dept"])
    _create(db_session, "5056-011-903", department_code="HCID")
    db_session.execute(
        text(
            "UPDATE parcels SET digitization_status = 'verified', verified_by = 'v@city.example', "
            "verified_at = now() WHERE parcel_id = '5056-011-903'"
        )
    )
    create_lease(db_session, worked_example(parcel_id="5056-011-903", department_code="HCID"))
    moved = merge_departments(db_session, "HCID", "LAHD")
    assert (moved.parcels, moved.leases, moved.occupancy) == (1, 1, 0)
    (lahd,) = list_departments(db_session)
    assert set(lahd.aliases) == {"HCID", "Housing and Community Investment", "Housing Dept"}
    assert db_session.execute(
        text(
            "SELECT d.code, p.digitization_status FROM parcels p JOIN departments d "
            "ON d.id = p.department_id"
        )
    ).one() == ("LAHD", "verified")
    assert _audit(db_session, "departments", "HCID")[-1] == ("DELETE", "merger@city.example")
    assert ("UPDATE", "merger@city.example") in _audit(db_session, "parcels", "5056-011-903")
    assert ("INSERT", "merger@city.example") in _audit(db_session, "department_aliases", "HCID")


def test_a_merge_refuses_two_occupancy_records_that_would_become_one(db_session: Session) -> None:
    add_department(db_session, "A", "Alpha")
    add_department(db_session, "B", "Beta")
    _create(db_session, "5056-011-903")
    db_session.execute(
        text("INSERT INTO buildings (building_id, parcel_id) SELECT 'B1', id FROM parcels")
    )
    db_session.execute(
        text(
            "INSERT INTO occupancy (building_id, department_id, period_start, headcount, "
            "usable_sq_ft_occupied) SELECT b.id, d.id, '2024-07-01', 5, 500 "
            "FROM buildings b, departments d"
        )
    )
    with pytest.raises(DepartmentInvalid, match="occupy building B1 from 2024-07-01"):
        merge_departments(db_session, "A", "B")


# Council districts


@pytest.mark.parametrize(
    ("label", "number"),
    [
        ("1", 1),
        ("CD 11", 11),
        ("District 4", 4),
        ("Ward 03", 3),
        ("100", None),
        ("A", None),
        (None, None),
    ],
)
def test_district_labels_name_their_number(label: str | None, number: int | None) -> None:
    assert district_number(label) == number


def test_a_parcels_district_follows_its_shape(db_session: Session) -> None:
    set_up_portland(db_session)
    # 60 % of it east of the border: district 2, whatever was typed
    _create(db_session, "127-123", box(BORDER_1_2 - 0.0004), council_district=5)
    assert district_of(db_session, "127-123") == 2
    version = db_session.execute(
        text("SELECT version FROM parcels WHERE parcel_id = '127-123'")
    ).scalar_one()
    update_parcel(
        db_session, "127-123", version, ParcelChange({}, box(BORDER_1_2 - 0.0008)), SETTINGS
    )
    assert district_of(db_session, "127-123") == 1
    db_session.execute(
        text(  # any write path: SQL typed in psql too
            "UPDATE parcels SET geom = ST_Multi(ST_Translate(geom, 0.003, 0)) "
            "WHERE parcel_id = '127-123'"
        )
    )
    assert district_of(db_session, "127-123") == 3


def test_importing_districts_derives_every_parcels_district(db_session: Session) -> None:
    set_up_portland(db_session)
    db_session.execute(text("DELETE FROM council_districts"))
    _create(db_session, "127-123", box(BORDER_1_2 - 0.0004), council_district=5)
    assert district_of(db_session, "127-123") == 5  # no polygons: as given
    shapes, srid = district_shapes()
    result = replace_districts(db_session, shapes, srid)
    assert (result.districts, result.parcels_changed) == (5, 1)
    assert district_of(db_session, "127-123") == 2
    again = replace_districts(db_session, shapes, srid)
    assert again.parcels_changed == 0
    assert (
        db_session.execute(
            text(
                "SELECT count(*) FROM audit_events WHERE table_name = 'council_districts' "
                "AND action = 'UPDATE'"
            )
        ).scalar()
        == 0
    )  # the same file changes nothing


def test_without_district_polygons_a_typed_district_stays(db_session: Session) -> None:
    _create(db_session, "5056-011-903", council_district=14)
    assert district_of(db_session, "5056-011-903") == 14
    assert district_numbers(db_session, SETTINGS) == tuple(range(1, 16))


def test_a_district_file_with_bad_features_is_refused_with_each_named(db_session: Session) -> None:
    shapes, srid = district_shapes()
    shapes[1] = DistrictShape(2, "Downtown", shapes[1].wkb)
    shapes[2] = DistrictShape(3, "3", None)
    with pytest.raises(DistrictsInvalid) as refused:
        replace_districts(db_session, shapes, srid)
    problems = {p.field: p.message for p in refused.value.problems}
    assert problems == {
        "feature 2": "'Downtown' is not a district number from 1 to 99",
        "feature 3": "has no shape",
    }


def test_the_choropleth_draws_the_imported_districts(db_session: Session) -> None:
    _create(db_session, "5056-011-903", council_district=2)
    hulls = district_areas(db_session)
    assert [f["properties"]["council_district"] for f in hulls["features"]] == ["2"]
    set_up_portland(db_session)
    areas = district_areas(db_session)
    assert [f["properties"]["council_district"] for f in areas["features"]] == [
        "1",
        "2",
        "3",
        "4",
        "5",
    ]
    west = min(lon for lon, _ in areas["features"][0]["geometry"]["coordinates"][0][0])
    assert west == pytest.approx(-70.26744)
