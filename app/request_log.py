"""Log lines a machine can read: one JSON object per line, each carrying the request id.

`configure_logging` is called by `asset-registry serve` (JSON unless `REGISTRY_LOG_FORMAT=text`);
an app made any other way (tests, `flask run`) leaves logging as the host set it up. Every
record made while a request is served, the request's own line and any traceback alike, carries
that request's id (`RequestIdFilter`), so an error can be found from the id a user reports
(the `X-Request-Id` of the answer).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import uuid
from contextvars import ContextVar
from typing import IO
from typing import Any

#: The request line's logger: one record per request, its fields in `record.request`.
REQUEST_LOGGER = "asset_registry.request"
LOG_FORMATS = ("json", "text")
#: Where the app leaves, in the WSGI environ, what the request line names: the route template
#: (`/parcels/<parcel_id>`, never the path with its ids) and the user (id, email, how signed in).
ROUTE_KEY = "asset_registry.route"
USER_KEY = "asset_registry.user"

_REQUEST_ID: ContextVar[str | None] = ContextVar("registry_request_id", default=None)
# what proxies and clients send: a UUID, nginx's $request_id (32 hex), a trace id
_WELL_FORMED_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
_HANDLER_NAME = "asset-registry"


def request_id_for(incoming: str | None) -> str:
    """The id of a request: the caller's `X-Request-Id` when it is well formed (8 to 128
    letters, digits, `._:-`), so a proxy's id follows the request; a new random one otherwise,
    so a forged header can't put arbitrary text into the logs."""
    if incoming and _WELL_FORMED_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    return _REQUEST_ID.get()


def enter_request(request_id: str) -> Any:
    """Make `request_id` the id of every record logged on this thread until `leave_request`."""
    return _REQUEST_ID.set(request_id)


def leave_request(token: Any) -> None:
    try:
        _REQUEST_ID.reset(token)
    except ValueError:  # closed on another thread than it started on: forget it there
        _REQUEST_ID.set(None)


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request being served (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """`{"time", "level", "logger", "request_id", ...}`: a request line's fields at the top
    level, any other record's `message`, a traceback as `error`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", None),
        }
        fields = getattr(record, "request", None)
        if isinstance(fields, dict):
            line["event"] = "request"
            line.update(fields)
        else:
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.stack_info:
            line["error"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def log_format(value: str | None, default: str = "json") -> str:
    """`REGISTRY_LOG_FORMAT`'s value checked: `json` or `text`."""
    chosen = (value or default).strip().lower()
    if chosen not in LOG_FORMATS:
        raise ValueError(f"REGISTRY_LOG_FORMAT must be json or text, not {value!r}")
    return chosen


def configure_logging(
    fmt: str | None = None, level: str | None = None, stream: IO[str] | None = None
) -> logging.Handler:
    """One handler on the root logger writing `fmt` (default `REGISTRY_LOG_FORMAT`, else json)
    at `level` (default `REGISTRY_LOG_LEVEL`, else INFO) to `stream` (standard error). Calling
    it again replaces the handler it made before, never another one."""
    chosen = log_format(fmt or os.environ.get("REGISTRY_LOG_FORMAT"))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("REGISTRY_LOG_LEVEL") or "INFO").upper())
    return handler
