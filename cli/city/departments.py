"""`asset-registry departments`: the owning agencies, the other names they go by (aliases), and
their renames and merges. Every change is audited under `--actor`."""

from __future__ import annotations

from pathlib import Path

import click

from cli.city.common import actor_option
from cli.city.common import city_session
from cli.city.common import service_command


@click.group()
def departments() -> None:
    """Departments with their aliases (former names, abbreviations)."""


@departments.command("list")
def departments_list() -> None:
    """Every department: code, name, aliases."""
    from registry.city.departments import list_departments

    with city_session() as session:
        found = list_departments(session)
    for department in found:
        aliases = f" (also: {'; '.join(department.aliases)})" if department.aliases else ""
        click.echo(f"{department.code}\t{department.name}{aliases}")


@departments.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--alias", "aliases", multiple=True, help="Another name it goes by (repeatable).")
@actor_option
def departments_add(code: str, name: str, aliases: tuple[str, ...], actor: str) -> None:
    """Add a department."""
    from registry.city.departments import add_department

    with city_session(actor) as session:
        add_department(session, code, name, aliases)
    click.echo(f"added {code}: {name}")


@departments.command("rename")
@click.argument("code")
@click.option("--name", default=None, help="Its new name.")
@click.option("--code", "new_code", default=None, help="Its new code.")
@actor_option
def departments_rename(code: str, name: str | None, new_code: str | None, actor: str) -> None:
    """Rename a department; its former code and name become aliases."""
    from registry.city.departments import rename_department

    if name is None and new_code is None:
        raise click.UsageError("give --name, --code or both")
    with city_session(actor) as session:
        rename_department(session, code, name=name, new_code=new_code)
    click.echo(f"renamed {code}")


@departments.command("merge")
@click.argument("old")
@click.argument("into_code")
@actor_option
def departments_merge(old: str, into_code: str, actor: str) -> None:
    """Merge the department OLD into INTO_CODE: its parcels, leases and occupancy move, and its
    code and name become aliases of INTO_CODE."""
    from registry.city.departments import merge_departments

    with city_session(actor) as session:
        moved = merge_departments(session, old, into_code)
    click.echo(
        f"merged {old} into {into_code}: {moved.parcels} parcels, {moved.leases} leases, "
        f"{moved.occupancy} occupancy records moved; {moved.aliases} aliases added"
    )


@departments.group("alias")
def alias() -> None:
    """Other names of a department."""


service_command(
    alias,
    "add",
    "registry.city.departments.add_alias",
    "{alias_name} names {code}",
    {"alias_name": "ALIAS", "code": "CODE"},
    help="Let ALIAS name the department CODE.",
)
service_command(
    alias,
    "remove",
    "registry.city.departments.remove_alias",
    "removed the alias {alias_name}",
    {"alias_name": "ALIAS"},
)


@departments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@actor_option
def departments_import(file: Path, actor: str) -> None:
    """Departments from a CSV file with the columns code,name,aliases (aliases separated by
    `;`). All or nothing: every problem is listed by row."""
    from registry.city.departments import import_departments

    try:
        lines = file.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    except UnicodeDecodeError as error:
        raise click.BadParameter(f"{file.name} is not UTF-8 text", param_hint="FILE") from error
    with city_session(actor) as session:
        counts = import_departments(session, lines)
    click.echo(
        f"{file.name}: {counts.added} added, {counts.renamed} renamed, "
        f"{counts.aliases_added} aliases added, {counts.unchanged} unchanged"
    )
