"""`LazyGroup`: a click group that imports a subcommand's module only when that command is needed.

Start-up time is what a command imports, so the CLI keeps every module that defines a command
cheap to import (click, the standard library, `registry.settings`, `registry.vocabulary`) and
imports SQLAlchemy, pandas, openpyxl and the registry's services inside the command that runs.
`--help` still loads each listed command, for its one-line help, but nothing heavier.
"""

from __future__ import annotations

import importlib
from typing import Any

import click


class LazyGroup(click.Group):
    """A group whose `lazy_subcommands` ({"name": "package.module.attribute"}) are imported on
    first use; commands added the usual way (`@group.command`) work alongside them."""

    def __init__(
        self, *args: Any, lazy_subcommands: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_subcommands = lazy_subcommands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy_subcommands])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy_subcommands:
            return self._load(cmd_name)
        return super().get_command(ctx, cmd_name)

    def _load(self, cmd_name: str) -> click.Command:
        import_path = self.lazy_subcommands[cmd_name]
        module_name, attribute = import_path.rsplit(".", 1)
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{import_path} is not a click command")
        return command
