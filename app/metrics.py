"""`/metrics` in the Prometheus text format: requests, latency, rows, pools, replica lag.

One registry per app (tests make many apps in one process; a server makes one): waitress serves
with threads in one process, so its counters are the server's. Run several processes and each
has its own `/metrics`, to be scraped one by one.

Served only to the host itself (a direct request from a loopback address: through a proxy the
peer is loopback too, so a request that carries `X-Forwarded-For`, `X-Real-IP` or `Forwarded`
is not local) or to whoever sends `Authorization: Bearer $REGISTRY_METRICS_TOKEN`.
"""

from __future__ import annotations

import dataclasses
import hmac
import ipaddress
import logging
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from importlib import metadata
from typing import Any

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Gauge
from prometheus_client import Histogram
from prometheus_client import Info
from prometheus_client import PlatformCollector
from prometheus_client import ProcessCollector
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from app.security import NON_DOCUMENT_HEADERS

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
PREFIX = "asset_registry"
#: Seconds: tiles and pages in the first buckets, KPI views and exports in the last.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def method_label(method: str) -> str:
    """The method, or `other`: a label must not take any value a client invents."""
    return method if method in _METHODS else "other"


class RequestMetrics:
    """The app's collectors, in a registry of its own."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            f"{PREFIX}_http_requests",
            "Requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.latency = Histogram(
            f"{PREFIX}_http_request_duration_seconds",
            "Time from the request reaching the app to the last byte of its answer.",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter(
            f"{PREFIX}_db_rows",
            "Database rows fetched or changed while answering, by route template.",
            ("route",),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            f"{PREFIX}_http_requests_in_flight",
            "Requests being answered now.",
            registry=self.registry,
        )
        Info(f"{PREFIX}", "The app's version.", registry=self.registry).info(
            {"version": _version()}
        )
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.registry.register(DatabaseCollector(app))

    def observe(self, route: str, method: str, status: int, seconds: float, rows: int) -> None:
        method = method_label(method)
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)
        if rows:
            self.rows.labels(route).inc(rows)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _version() -> str:
    try:
        return metadata.version("city-asset-registry")
    except metadata.PackageNotFoundError:
        return "unknown"


def app_engines(app: Flask) -> Iterator[tuple[str, Engine]]:
    """Each engine the app keeps, once, named after where it is kept: `registry` (the primary's
    sessions) is `primary`, `registry_read_engine` is `read`, a dataclass's fields are named
    after it and them (`registry_replica`'s `read_engine` is `replica_read`). The engines are
    found, not listed, so one added later is measured too."""
    seen: set[int] = set()
    for key, value in list(app.extensions.items()):
        base = _engine_name(key.removeprefix("registry"))
        found = [("", value)]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            found = [
                (field.name, getattr(value, field.name)) for field in dataclasses.fields(value)
            ]
        for part, candidate in found:
            engine = candidate.kw.get("bind") if isinstance(candidate, sessionmaker) else candidate
            if not isinstance(engine, Engine) or id(engine) in seen:
                continue
            seen.add(id(engine))
            name = "_".join(filter(None, (base, _engine_name(part))))
            yield name or "primary", engine


def _engine_name(name: str) -> str:
    return name.removesuffix("engine").removesuffix("sessions").strip("_")


def _pool_figures(engine: Engine) -> dict[str, float] | None:
    pool: Any = engine.pool
    if not all(hasattr(pool, name) for name in ("size", "checkedout", "overflow")):
        return None  # a pool without a fixed size (NullPool, StaticPool): nothing to show
    return {
        "size": pool.size(),
        "checked_out": pool.checkedout(),
        "overflow": max(pool.overflow(), 0),
        # SQLAlchemy keeps the limit private; the pool's capacity is size + max_overflow
        "max_overflow": getattr(pool, "_max_overflow", 0),
    }


_POOL_HELP = {
    "size": "Connections the pool keeps open (pool_size).",
    "checked_out": "Connections in use by a request now.",
    "overflow": "Connections opened beyond pool_size now.",
    "max_overflow": "Connections the pool may open beyond pool_size.",
}


class DatabaseCollector(Collector):
    """Pool use of every engine and the replica's lag, read at each scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterable[GaugeMetricFamily]:
        families = {
            name: GaugeMetricFamily(f"{PREFIX}_db_pool_{name}", text, labels=["engine"])
            for name, text in _POOL_HELP.items()
        }
        for engine_name, engine in app_engines(self.app):
            figures = _pool_figures(engine)
            for name, value in (figures or {}).items():
                families[name].add_metric([engine_name], value)
        yield from families.values()
        lag = self._replica_lag()
        if lag is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_db_replica_lag_seconds",
                "How far the read replica is behind the primary (time since its last replayed "
                "transaction while the primary is writing).",
                value=lag,
            )

    def _replica_lag(self) -> float | None:
        from app import database

        replica_lag: Callable[[], float | None] | None = getattr(
            database, "replica_lag_seconds", None
        )
        if replica_lag is None:
            return None
        try:
            with self.app.app_context():
                return replica_lag()
        except Exception:  # a scrape must answer even when the replica does not
            log.warning("replica lag unavailable", exc_info=True)
            return None


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def metrics_refusal(environ: dict[str, Any], token: str | None) -> tuple[str, str] | None:
    """None when this request may read the metrics; else its status and the reason."""
    if token:
        scheme, _, sent = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            sent.strip().encode(), token.encode()
        ):
            return None
    forwarded = any(environ.get(name) for name in _PROXY_HEADERS)
    if not forwarded and _is_loopback(environ.get("REMOTE_ADDR", "")):
        return None
    if token:
        return "401 Unauthorized", "Metrics need the metrics token (Authorization: Bearer)."
    return "403 Forbidden", "Metrics are served to this host only."


def serve_metrics(
    metrics: RequestMetrics,
    token: str | None,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
) -> list[bytes]:
    """The `/metrics` answer (WSGI): the exposition, or why it is refused."""
    refusal = metrics_refusal(environ, token)
    headers = [*NON_DOCUMENT_HEADERS, ("Cache-Control", "no-store")]
    if refusal is not None:
        status, reason = refusal
        body = f"{reason}\n".encode()
        headers.append(("Content-Type", "text/plain; charset=utf-8"))
        if status.startswith("401"):
            headers.append(("WWW-Authenticate", 'Bearer realm="asset-registry metrics"'))
    elif environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
        status, body = "405 Method Not Allowed", b"GET only\n"
        headers += [("Content-Type", "text/plain; charset=utf-8"), ("Allow", "GET, HEAD")]
    else:
        status, body = "200 OK", metrics.exposition()
        headers.append(("Content-Type", CONTENT_TYPE_LATEST))
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [] if environ.get("REQUEST_METHOD") == "HEAD" else [body]
