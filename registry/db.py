"""Engines, sessions, the unit of work, and COPY inside it.

Every write goes through `unit_of_work(actor)`: one transaction that names its actor, so that the
audit triggers in the database record who made each change whatever the write path.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError as RefusedValue  # noqa: F401 (re-exported: bad input)
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from registry.statement_rows import count_rows_of

if TYPE_CHECKING:  # pandas only for the COPY helpers' callers, which have it loaded already
    import pandas as pd

SYSTEM_ACTOR = "system"


def normalise_database_url(url: str) -> str:
    """Accept the `postgresql://` form libpq tools print, but always drive psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


#: Every statement planned for its own parameters (`plan_cache_mode`). Why: psycopg prepares a
#: statement on the server from its 5th run on a connection, and PostgreSQL then switches to a
#: generic plan, made without the parameters' values, when it guesses that one costs about the
#: same; for the KPI set's statements, whose filters are optional parameters (`:f_department IS
#: NULL OR …`), it did, and the set took 50 s instead of 2.2 s from the 11th computation on a
#: connection (100,000 parcels). Planning each run costs well under a millisecond for the small
#: statements; parsing is still saved.
PLAN_EACH_RUN = "-c plan_cache_mode=force_custom_plan"


def create_registry_engine(url: str, **kwargs: object) -> Engine:
    # LIFO keeps a few connections hot (their prepared statements and caches) under light load
    connect_args = dict(kwargs.pop("connect_args", None) or {})  # type: ignore[call-overload]
    connect_args["options"] = " ".join(filter(None, (PLAN_EACH_RUN, connect_args.get("options"))))
    options: dict[str, object] = {
        "pool_pre_ping": True,
        "pool_size": 10,
        "max_overflow": 10,
        "pool_use_lifo": True,
        "connect_args": connect_args,
    }
    options.update(kwargs)
    engine = create_engine(normalise_database_url(url), **options)
    count_rows_of(engine)  # a request's log line says how many rows it fetched or changed
    return engine


def create_read_engine(url: str, **kwargs: object) -> Engine:
    """An engine for short, hot, read-only statements (vector tiles).

    Autocommit spares the BEGIN/ROLLBACK round trips; parallel workers are off because starting
    them costs more than a tile query takes (a z13 tile: 44 ms parallel vs 11 ms serial, measured
    on the benchmark city); no pre-ping, since a dropped connection is retried by the caller.
    """
    connect_args = {"options": "-c max_parallel_workers_per_gather=0"}
    connect_args.update(kwargs.pop("connect_args", None) or {})  # type: ignore[call-overload]
    options: dict[str, object] = {
        "isolation_level": "AUTOCOMMIT",
        "pool_reset_on_return": None,  # autocommit: there is no transaction to roll back
        "pool_pre_ping": False,
        "pool_recycle": 600,
        "connect_args": connect_args,
    }
    options.update(kwargs)
    return create_registry_engine(url, **options)


def set_actor(session: Session, actor: str) -> None:
    """Name the actor of the current transaction for the audit triggers (SET LOCAL semantics)."""
    session.execute(text("SELECT set_config('registry.actor', :actor, true)"), {"actor": actor})


@contextmanager
def unit_of_work(factory: sessionmaker[Session], actor: str) -> Iterator[Session]:
    """A session in one transaction, committed on success and rolled back on any error."""
    with factory() as session, session.begin():
        set_actor(session, actor)
        yield session


@contextmanager
def planner_settings(session: Session, **settings: str) -> Iterator[None]:
    """Run the statements of the block with these settings (e.g. `enable_nestloop="off"`),
    then put back what was in force before, the caller's own SET LOCAL included. For the few
    statements whose plan must not follow the planner's guesses (each caller says why); on an
    error the rollback undoes the settings with everything else."""
    previous = {
        name: session.execute(
            text("SELECT current_setting(:name), set_config(:name, :value, true)"),
            {"name": name, "value": value},
        ).scalar_one()
        for name, value in settings.items()
    }
    yield
    for name, value in previous.items():
        session.execute(
            text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value}
        )


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT postgis_lib_version()")).scalar() is not None
    except Exception:
        return False


def _driver_connection(session: Session) -> Any:
    raw = session.connection().connection.driver_connection
    assert raw is not None, "the session's connection is closed"
    return raw


def copy_frame(
    session: Session, table: str, frame: pd.DataFrame, columns: Sequence[str] | None = None
) -> None:
    """Rows of `frame` (its `columns`, default all) into `table`; an empty cell is NULL.

    CSV through COPY is one round trip for the whole frame, where INSERTs would be one per row.
    """
    if frame.empty:
        return
    names = list(columns or frame.columns)
    buffer = io.StringIO()
    frame[names].to_csv(buffer, index=False, header=False, na_rep="")
    with (
        _driver_connection(session).cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv, NULL '')") as copy,
    ):
        copy.write(buffer.getvalue())


def copy_frame_binary(
    session: Session, table: str, frame: pd.DataFrame, types: Mapping[str, str]
) -> None:
    """The columns of `frame` that `types` names into `table` by binary COPY, each sent as the
    Postgres type given (its values Python values of that type: str, int, date, Decimal, a dict
    for jsonb, bytes for bytea); NA is NULL, an empty string stays an empty string.

    No value is formatted as text nor parsed by the server, so dates, amounts and geometry load
    several times faster than through `copy_frame`. Bytes sent to a geometry column (as
    "bytea") are (E)WKB, which PostGIS reads with the checks of ST_GeomFromWKB (closed rings,
    enough points); its text input does not check them.
    """
    if frame.empty:
        return
    names = list(types)
    columns = [
        frame[name].astype(object).where(frame[name].notna(), None).tolist() for name in names
    ]
    with (
        _driver_connection(session).cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT binary)") as copy,
    ):
        copy.set_types([types[name] for name in names])
        for row in zip(*columns, strict=True):
            copy.write_row(row)
