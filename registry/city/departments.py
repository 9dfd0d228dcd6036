"""Departments: the owning agencies that parcels, leases and occupancy are attributed to, and the
other names they go by in legacy files (aliases: a former code or name, `HCID` for LAHD; an
abbreviation, `Rec&Parks` for RAP).

Names are compared without regard to case or runs of blanks. Writes go through a
`unit_of_work`, so the audit triggers record every change; a rename keeps the former code and
name as aliases, and a merge keeps the merged department's code and name as aliases of the
survivor, so that files written before still resolve.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from typing import cast

from sqlalchemy import text
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from registry.fields import FieldProblem
from registry.fields import RecordInvalid

MAX_CODE = 16
MAX_NAME = 200
#: Written after a value by someone who was not sure of it: "GSD?".
DOUBT_MARK = "?"


class DepartmentInvalid(RecordInvalid):
    """A department change was refused; `problems` lists every reason."""


@dataclass(frozen=True)
class Department:
    id: int
    code: str
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True)
class DepartmentMatch:
    """What a department value in a file or form names. `uncertain`: the value carried a doubt
    mark (`GSD?`) and was resolved without it, which a person should confirm. `nearest`: for a
    "did you mean", the closest code, name or alias when nothing matched, or the one a doubted
    value names as stored."""

    department_id: int | None
    code: str | None
    uncertain: bool = False
    nearest: str | None = None


def _key(value: str) -> str:
    return " ".join(value.split()).casefold()


def department_choices(session: Session) -> list[list[str]]:
    """[code, name] pairs for pick lists, by name."""
    rows = session.execute(text("SELECT code, name FROM departments ORDER BY name"))
    return [[row.code, row.name] for row in rows]


def list_departments(session: Session) -> list[Department]:
    """Every department with its aliases, by code."""
    rows = session.execute(
        text(
            "SELECT d.id, d.code, d.name, coalesce(array_agg(a.alias) "
            "FILTER (WHERE a.alias IS NOT NULL), '{}') AS aliases "
            "FROM departments d LEFT JOIN department_aliases a ON a.department_id = d.id "
            "GROUP BY d.id ORDER BY d.code"
        )
    )
    return [
        Department(int(r.id), r.code, r.name, tuple(sorted(r.aliases, key=str.casefold)))
        for r in rows
    ]


class DepartmentResolver:
    """`resolve_department` for many values (an import's distinct cells): the departments and
    their aliases are read once."""

    def __init__(self, session: Session) -> None:
        self._names: dict[str, tuple[Department, str]] = {}
        for department in list_departments(session):
            for name in (department.code, department.name, *department.aliases):
                self._names.setdefault(_key(name), (department, name))

    def __call__(self, value: str) -> DepartmentMatch:
        wanted = _key(value)
        uncertain = wanted.endswith(DOUBT_MARK)
        wanted = wanted.rstrip(DOUBT_MARK + " ")
        found = self._names.get(wanted)
        if found is not None:
            department, name = found
            return DepartmentMatch(
                department.id, department.code, uncertain, name if uncertain else None
            )
        nearest = difflib.get_close_matches(wanted.strip("* "), list(self._names), n=1, cutoff=0.5)
        return DepartmentMatch(
            None, None, uncertain, self._names[nearest[0]][1] if nearest else None
        )


def resolve_department(session: Session, value: str) -> DepartmentMatch:
    """The department `value` names by its code, its name or one of its aliases. A trailing
    doubt mark (`GSD?`) is set aside and reported as `uncertain`."""
    return DepartmentResolver(session)(value)


def find_department(session: Session, value: str) -> tuple[int | None, str | None]:
    """(id, None) for a department given by code, name or alias; else (None, the nearest code,
    name or alias). A doubted value ("GSD?") is not matched here but reported with its
    suggestion: callers that can carry the doubt use `resolve_department`."""
    match = resolve_department(session, value)
    if match.department_id is not None and not match.uncertain:
        return match.department_id, None
    return None, match.nearest


def _department(session: Session, value: str, field: str = "code") -> Department:
    match = resolve_department(session, value)
    if match.department_id is None or match.uncertain:
        hint = f"; did you mean {match.nearest}?" if match.nearest else ""
        raise DepartmentInvalid([FieldProblem(field, f"no department {value!r}{hint}")])
    return next(d for d in list_departments(session) if d.id == match.department_id)


def _taken(session: Session, value: str, except_id: int | None = None) -> str | None:
    """What already goes by `value` (another department's code, name or alias), if anything."""
    for department in list_departments(session):
        if department.id == except_id:
            continue
        if _key(value) in {_key(department.code), _key(department.name)}:
            return f"department {department.code}"
        if _key(value) in {_key(alias) for alias in department.aliases}:
            return f"an alias of {department.code}"
    return None


def _check_code_and_name(code: str | None, name: str | None) -> list[FieldProblem]:
    problems = []
    if code is not None and not 1 <= len(code) <= MAX_CODE:
        problems.append(FieldProblem("code", f"must be 1 to {MAX_CODE} characters"))
    if code is not None and (DOUBT_MARK in code or code != "".join(code.split())):
        problems.append(FieldProblem("code", "must not contain blanks or a question mark"))
    if name is not None and not 1 <= len(name) <= MAX_NAME:
        problems.append(FieldProblem("name", f"must be 1 to {MAX_NAME} characters"))
    return problems


def add_department(session: Session, code: str, name: str, aliases: Iterable[str] = ()) -> None:
    """A new department, with the other names it goes by."""
    code, name = code.strip(), " ".join(name.split())
    problems = _check_code_and_name(code, name)
    for value, field in ((code, "code"), (name, "name")):
        taken = _taken(session, value) if value else None
        if taken:
            problems.append(FieldProblem(field, f"{value!r} is {taken} already"))
    if problems:
        raise DepartmentInvalid(problems)
    session.execute(
        text("INSERT INTO departments (code, name) VALUES (:code, :name)"),
        {"code": code, "name": name},
    )
    for alias in aliases:
        add_alias(session, alias, code)


def _drop_own_alias(session: Session, department_id: int, value: str) -> None:
    session.execute(
        text(
            "DELETE FROM department_aliases WHERE department_id = :id "
            "AND lower(regexp_replace(btrim(alias), '\\s+', ' ', 'g')) = :key"
        ),
        {"id": department_id, "key": _key(value)},
    )


def _keep_as_alias(session: Session, department_id: int, former: str, now: Department) -> None:
    if _key(former) not in {_key(now.code), _key(now.name), *map(_key, now.aliases)}:
        session.execute(
            text("INSERT INTO department_aliases (alias, department_id) VALUES (:alias, :id)"),
            {"alias": former, "id": department_id},
        )


def rename_department(
    session: Session, code: str, *, name: str | None = None, new_code: str | None = None
) -> None:
    """Give the department `code` a new name and/or code; the former ones become aliases."""
    department = _department(session, code)
    name = " ".join(name.split()) if name is not None else None
    new_code = new_code.strip() if new_code is not None else None
    problems = _check_code_and_name(new_code, name)
    for value, field in ((new_code, "code"), (name, "name")):
        taken = _taken(session, value, except_id=department.id) if value else None
        if taken:
            problems.append(FieldProblem(field, f"{value!r} is {taken} already"))
    if problems:
        raise DepartmentInvalid(problems)
    for value in (new_code, name):
        if value:
            _drop_own_alias(session, department.id, value)
    session.execute(
        text(
            "UPDATE departments SET code = coalesce(:code, code), name = coalesce(:name, name) "
            "WHERE id = :id"
        ),
        {"code": new_code, "name": name, "id": department.id},
    )
    now = _department(session, new_code or department.code)
    for former in (department.code, department.name):
        _keep_as_alias(session, department.id, former, now)


def add_alias(session: Session, alias: str, code: str) -> None:
    """Let `alias` name the department `code` (a former name, an abbreviation)."""
    alias = " ".join(alias.split())
    department = _department(session, code)
    problems = (
        []
        if 1 <= len(alias) <= MAX_NAME and DOUBT_MARK not in alias
        else [FieldProblem("alias", f"must be 1 to {MAX_NAME} characters, without a question mark")]
    )
    taken = _taken(session, alias) if alias else None
    if taken and taken != f"an alias of {department.code}":
        problems.append(FieldProblem("alias", f"{alias!r} is {taken} already"))
    if problems:
        raise DepartmentInvalid(problems)
    if taken is None:
        session.execute(
            text("INSERT INTO department_aliases (alias, department_id) VALUES (:alias, :id)"),
            {"alias": alias, "id": department.id},
        )


def remove_alias(session: Session, alias: str) -> None:
    removed = session.execute(
        text(
            "DELETE FROM department_aliases "
            "WHERE lower(regexp_replace(btrim(alias), '\\s+', ' ', 'g')) = :key"
        ),
        {"key": _key(alias)},
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise DepartmentInvalid([FieldProblem("alias", f"there is no alias {alias!r}")])


@dataclass(frozen=True)
class MergeResult:
    """How many records moved from the merged department to the survivor."""

    parcels: int
    leases: int
    occupancy: int
    aliases: int


_OCCUPANCY_CLASHES = text("""
    SELECT b.building_id, o.period_start FROM occupancy o
      JOIN occupancy s ON s.building_id = o.building_id AND s.period_start = o.period_start
      JOIN buildings b ON b.id = o.building_id
     WHERE o.department_id = :old AND s.department_id = :into
     ORDER BY 1, 2
""")


def merge_departments(session: Session, old: str, into: str) -> MergeResult:
    """Move every parcel, lease and occupancy record of `old` to `into`, then remove `old`,
    keeping its code, name and aliases as aliases of `into`. Verified parcels stay verified:
    the agency is the same. Refused (nothing moved) when both occupy a building from the same
    day, since the two records would become one and no rule says how to add them up."""
    gone, survivor = _department(session, old, "old"), _department(session, into, "into")
    if gone.id == survivor.id:
        raise DepartmentInvalid([FieldProblem("into", "a department cannot merge into itself")])
    clashes = session.execute(_OCCUPANCY_CLASHES, {"old": gone.id, "into": survivor.id}).all()
    if clashes:
        raise DepartmentInvalid(
            [
                FieldProblem(
                    "occupancy",
                    f"both {gone.code} and {survivor.code} occupy building {building} from "
                    f"{start}: correct one of the records first",
                )
                for building, start in clashes
            ]
        )
    ids = {"old": gone.id, "into": survivor.id}
    session.execute(text("SELECT set_config('registry.department_merge', 'on', true)"))
    parcels = session.execute(
        text("UPDATE parcels SET department_id = :into WHERE department_id = :old"), ids
    )
    session.execute(text("SELECT set_config('registry.department_merge', '', true)"))
    leases = session.execute(
        text("UPDATE leases SET department_id = :into WHERE department_id = :old"), ids
    )
    occupancy = session.execute(
        text("UPDATE occupancy SET department_id = :into WHERE department_id = :old"), ids
    )
    session.execute(
        text("UPDATE department_aliases SET department_id = :into WHERE department_id = :old"), ids
    )
    session.execute(text("DELETE FROM departments WHERE id = :old"), ids)
    now = _department(session, survivor.code)
    for former in (gone.code, gone.name):
        _keep_as_alias(session, survivor.id, former, now)
        now = _department(session, survivor.code)
    return MergeResult(
        cast(CursorResult[Any], parcels).rowcount,
        cast(CursorResult[Any], leases).rowcount,
        cast(CursorResult[Any], occupancy).rowcount,
        len(now.aliases) - len(survivor.aliases),
    )


@dataclass(frozen=True)
class DepartmentImport:
    added: int
    renamed: int
    aliases_added: int
    unchanged: int


def _csv_rows(
    lines: Iterable[str],
) -> tuple[list[tuple[int, str, str, list[str]]], list[FieldProblem]]:
    reader = csv.DictReader(lines)
    fields = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    if "code" not in fields or "name" not in fields:
        return [], [
            FieldProblem(
                "header", "the first line must name the columns code, name and (optionally) aliases"
            )
        ]
    rows, problems, seen = [], [], set[str]()
    for number, record in enumerate(reader, start=1):
        code = (record.get(fields["code"]) or "").strip()
        name = " ".join((record.get(fields["name"]) or "").split())
        aliases = (
            [
                a.strip()
                for a in (record.get(fields.get("aliases", ""), "") or "").split(";")
                if a.strip()
            ]
            if "aliases" in fields
            else []
        )
        if not code and not name and not aliases:
            continue
        row_problems = _check_code_and_name(code, name)
        if _key(code) in seen:
            row_problems.append(FieldProblem("code", f"{code} is on an earlier row too"))
        seen.add(_key(code))
        problems += [FieldProblem(f"row {number} {p.field}", p.message) for p in row_problems]
        rows.append((number, code, name, aliases))
    return rows, problems


def import_departments(session: Session, lines: Iterable[str]) -> DepartmentImport:
    """Departments from CSV lines with the columns `code,name,aliases` (aliases separated by
    `;`): new codes are added, a changed name renames (the former name becomes an alias), new
    aliases are added. All or nothing: every problem is reported, by row, and the caller's
    transaction must then be rolled back (`unit_of_work` does)."""
    rows, problems = _csv_rows(lines)
    if problems:
        raise DepartmentInvalid(problems)
    existing = {_key(d.code): d for d in list_departments(session)}
    added = renamed = aliases_added = unchanged = 0
    for number, code, name, aliases in rows:
        before = existing.get(_key(code))
        try:
            if before is None:
                add_department(session, code, name)
                added += 1
            elif _key(before.name) != _key(name):
                rename_department(session, before.code, name=name)
                renamed += 1
            now = _department(session, code)
            new_aliases = [
                alias
                for alias in dict.fromkeys(aliases)
                if _key(alias) not in {_key(v) for v in (now.code, now.name, *now.aliases)}
            ]
            for alias in new_aliases:
                add_alias(session, alias, now.code)
            aliases_added += len(new_aliases)
            unchanged += before is not None and _key(before.name) == _key(name) and not new_aliases
        except DepartmentInvalid as invalid:
            problems += [
                FieldProblem(f"row {number} {p.field}", p.message) for p in invalid.problems
            ]
    if problems:
        raise DepartmentInvalid(problems)
    return DepartmentImport(added, renamed, aliases_added, unchanged)
