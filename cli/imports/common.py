"""What every `asset-registry import …` command shares: NAME=VALUE options and the ending."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from registry.imports.report import ImportReport


def parse_pairs(option: str, given: tuple[str, ...]) -> dict[str, str]:
    """`--map TARGET=SOURCE`-style options as a dict; a malformed one is a usage error."""
    pairs: dict[str, str] = {}
    for item in given:
        name, equals, value = item.partition("=")
        if not equals or not name.strip():
            raise click.UsageError(f"{option} {item}: expected {option} NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


def finish_import(ctx: click.Context, report: ImportReport, report_path: Path | None) -> None:
    """Print the summary, write the JSON report if asked, exit 1 when rows were rejected."""
    for line in report.summary_lines():
        click.echo(line)
    if report_path is not None:
        report.write_json(report_path)
        click.echo(f"report: {report_path}")
    ctx.exit(1 if report.rejected else 0)
