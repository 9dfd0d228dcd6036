"""The command tree of `asset-registry`: every group, loaded lazily, still lists and runs every
command, and starting the CLI imports none of the heavy libraries a command may need."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cli.main import cli

COMMANDS = {
    "backup": [],
    "city": ["boundary", "id-format", "placeholder", "set", "show"],
    "db": ["create", "upgrade"],
    "departments": ["add", "alias", "import", "list", "merge", "rename"],
    "districts": ["import", "list"],
    "documents": ["check"],
    "export": ["gasb87", "journal", "kpi", "portfolio"],
    "import": ["costs", "leases", "occupancy", "parcels"],
    "kpi": ["backfill", "snapshot"],
    "leases": ["remeasure", "responsible"],
    "notify": [],
    "restore": [],
    "sample": ["load"],
    "serve": [],
    "users": ["add", "deactivate", "revoke-tokens", "token"],
}
COMMAND_PATHS = [[group] for group in COMMANDS] + [
    [group, name] for group, names in COMMANDS.items() for name in names
]
# What the commands import when they run; `--help` needs none of it.
HEAVY_MODULES = (
    "sqlalchemy",
    "pandas",
    "geopandas",
    "pyogrio",
    "pyarrow",
    "openpyxl",
    "alembic",
    "flask",
    "registry.models",
    "registry.kpis",
)


def _listed(group: list[str]) -> list[str]:
    """The command names under "Commands:" in the group's `--help`."""
    result = CliRunner().invoke(cli, [*group, "--help"])
    assert result.exit_code == 0, result.output
    commands = result.output.split("Commands:\n", 1)[1]
    return [line.split()[0] for line in commands.splitlines() if line.startswith("  ")]


def _modules_imported_by(*args: str) -> list[str]:
    """The heavy modules imported by running `asset-registry ARGS` in a fresh interpreter."""
    script = (
        "import contextlib, io, sys\n"
        "from cli.main import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        f"    cli({list(args)!r})\n"
        f"print(*sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[1],
    )
    return done.stdout.split()


def test_the_top_level_help_lists_every_group() -> None:
    assert _listed([]) == sorted(COMMANDS)


@pytest.mark.parametrize("group", [group for group, names in COMMANDS.items() if names])
def test_each_group_help_lists_all_its_commands(group: str) -> None:
    assert _listed([group]) == COMMANDS[group]


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_each_command_loads_under_its_own_name_and_shows_its_help(path: list[str]) -> None:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None and found.name == name
        command = found
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {' '.join(path)} [OPTIONS]" in result.output


def test_a_lazily_loaded_command_runs_with_its_usual_exit_code(tmp_path: Path) -> None:
    missing = tmp_path / "missing.gpkg"
    result = CliRunner().invoke(cli, ["import", "parcels", str(missing)])
    assert result.exit_code == 2
    assert f"{missing}: no such file" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["import", "--help"],
        ["import", "parcels", "--help"],
        ["users", "--help"],
        ["kpi", "snapshot", "--help"],
        ["backup", "--help"],
        ["restore", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_no_heavy_library(args: list[str]) -> None:
    assert _modules_imported_by(*args) == []
