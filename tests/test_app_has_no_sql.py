"""The web app holds no SQL: views call `registry` functions, whose query and records modules hold
every statement (STYLE: reads as explicit query modules, writes through services).

Read from the source with `ast`, so a statement in a module no test imports is found too: no
SQLAlchemy but the session and engine types, no statement run on a session or connection, no
ORM lookup of a model, and no string that reads as SQL.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What app/ may take from SQLAlchemy: the types of what `app.database` hands out.
ALLOWED_SQLALCHEMY = {
    "sqlalchemy": {"Engine", "Connection"},
    "sqlalchemy.orm": {"Session", "sessionmaker"},
}
# Methods that run a statement on a session, connection or engine.
RUNS_SQL = {"execute", "exec_driver_sql", "scalar", "scalars"}
# Statements as this code base writes them: keywords in capitals.
SQL_TEXT = re.compile(
    r"\b(?:SELECT\b[\s\S]+?\bFROM\b|INSERT\s+INTO\b|UPDATE\s+\w+\s+SET\b"
    r"|DELETE\s+FROM\b|WITH\s+\w+\s+AS\s*\()"
)


def _app_modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted((ROOT / "app").rglob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _sql_in(tree: ast.Module) -> Iterator[tuple[int, str]]:
    models = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "registry.models"
        for alias in node.names
    }
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    yield node.lineno, f"imports {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = {alias.name for alias in node.names}
            if node.module.split(".")[0] == "sqlalchemy":
                extra = names - ALLOWED_SQLALCHEMY.get(node.module, set())
                if extra:
                    yield node.lineno, f"imports {sorted(extra)} from {node.module}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in RUNS_SQL:
                yield node.lineno, f"calls .{node.func.attr}()"
            elif (
                node.func.attr == "get"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and node.args[0].id in models
            ):
                yield node.lineno, f"looks up a {node.args[0].id} by the ORM"
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and SQL_TEXT.search(node.value)
        ):
            yield node.lineno, f"holds SQL {node.value[:40]!r}"


def test_app_runs_no_sql_of_its_own() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line} {what}"
        for path, tree in _app_modules()
        for line, what in _sql_in(tree)
    ]
    assert found == [], "move these into a registry query or records module"


def test_the_check_finds_sql_where_there_is_some() -> None:
    source = """
from sqlalchemy import text
from registry.models import User
_Q = "SELECT true FROM buildings WHERE building_id = :b"
def view(session):
    session.get(User, 1)
    return session.scalar(text(_Q))
"""
    found = sorted(what for _, what in _sql_in(ast.parse(source)))
    assert found == [
        "calls .scalar()",
        "holds SQL 'SELECT true FROM buildings WHERE buildin'",
        "imports ['text'] from sqlalchemy",
        "looks up a User by the ORM",
    ]
