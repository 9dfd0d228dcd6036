"""Limits and headers every request and response goes through (issue 15, items 3, 6 and 8).

- Request size: `REGISTRY_MAX_REQUEST_MB` (default 5) for every request, `REGISTRY_MAX_UPLOAD_MB`
  (default 500) for the routes that take a file; a larger body is a 413 before it is read.
- NUL characters in the path or the query are a 400: PostgreSQL refuses them in text.
- A value the database can't hold (a 30-digit district, a page past any offset) is a 400, not
  a 500 with a traceback.
- Headers: a Content-Security-Policy allowing the app's own scripts and styles only (and the
  base map's tiles), no framing, `nosniff`, `Referrer-Policy: same-origin`, and `Cache-Control:
  private, no-store` on everything but static files and public responses that set their own.
- `REGISTRY_PUBLIC_URL`, when set, is the scheme, host and path of every absolute link: the
  request's `Host` header is not trusted for them.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request
from werkzeug.exceptions import BadRequest

from app.problems import problem
from app.problems import wants_problem_json
from registry.db import RefusedValue

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: The endpoints that take an uploaded file, allowed REGISTRY_MAX_UPLOAD_MB.
UPLOAD_ENDPOINTS = frozenset(
    {
        "imports.upload",
        "city_admin.import_districts",
        "city_admin.import_boundary",
        "city_admin.import_departments",
        "lease_documents.attach",  # REGISTRY_MAX_DOCUMENT_MB is checked by the view
    }
)


def setting(app: Flask, name: str) -> Any:
    """A setting from the app's config (tests) or else the environment."""
    return app.config.get(name, os.environ.get(name))


def _megabytes(app: Flask, name: str, default: int) -> int:
    value = setting(app, name)
    return int(value) if value not in (None, "") else default


def init_app(app: Flask) -> None:
    """Call before any other `before_request` reads the body (the CSRF check reads the form)."""
    request_mb = _megabytes(app, "REGISTRY_MAX_REQUEST_MB", 5)
    upload_mb = _megabytes(app, "REGISTRY_MAX_UPLOAD_MB", 500)
    app.config["MAX_CONTENT_LENGTH"] = request_mb * MB
    app.config["MAX_FORM_MEMORY_SIZE"] = request_mb * MB
    app.extensions["registry_upload_limit"] = upload_mb * MB
    app.before_request(_check_request)
    app.after_request(_security_headers)
    app.register_error_handler(RefusedValue, _database_refused_value)
    public_url = setting(app, "REGISTRY_PUBLIC_URL")
    if public_url:
        app.wsgi_app = PublicUrlMiddleware(app.wsgi_app, str(public_url))  # type: ignore[method-assign]


#: Responses that keep the caching they set, signed in or not (static files, public tiles).
KEEP_CACHING = frozenset({"static", "tiles.parcel_tile_view"})


def _check_request() -> Response | None:
    if request.method == "HEAD":
        # a HEAD is its GET without the body (RFC 9110); views that test for "GET" see one
        request.method = "GET"
    if request.endpoint in UPLOAD_ENDPOINTS:
        request.max_content_length = current_app.extensions["registry_upload_limit"]
    names = [
        name for name, value in request.args.items(multi=True) if "\x00" in name or "\x00" in value
    ]
    if "\x00" in request.path or names:
        where = f"the query parameter {names[0]!r}" if names else "the address"
        return _bad_request(
            f"NUL characters are not allowed in {where}.",
            names[0].replace("\x00", "") if names else "path",
        )
    return None


def _bad_request(detail: str, field: str) -> Response:
    if wants_problem_json():
        return problem(400, "Bad request", detail, [{"field": field, "message": detail}])
    raise BadRequest(detail)


def _database_refused_value(error: RefusedValue) -> Response:
    # the driver's first line names the problem ("integer out of range"), never the statement
    reason = str(error.orig).splitlines()[0] if error.orig else "a value is out of range"
    log.warning("refused %s %s: %s", request.method, request.path, reason)
    detail = f"A value in the request can't be stored or searched for: {reason}."
    if wants_problem_json():
        return problem(400, "Bad request", detail)
    return Response(detail, status=400, mimetype="text/plain")


_INLINE_SCRIPT = re.compile(r"<script(?=[\s>])(?![^>]*\bsrc=)")


def csp_nonce() -> str:
    """This response's script nonce (made on first use; the policy names it from then on)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def nonced(document: str) -> str:
    """A document the app generated (a Folium map, whose scripts are inline) with this
    response's nonce on each inline script. Never for text a user could have written."""
    return _INLINE_SCRIPT.sub(f'<script nonce="{csp_nonce()}"', document)


def content_security_policy(
    basemap_url: str, nonce: str | None = None, local_basemap_url: str = ""
) -> str:
    """The policy of a page; images may come from the configured base map and the local one
    (REGISTRY_LOCAL_BASEMAP_URL, an intranet tile server) besides the app itself."""
    images = ["'self'", "data:", "blob:"]
    for url in (basemap_url, local_basemap_url):
        origin = urlsplit(url.replace("{s}", "a"))
        if origin.scheme in ("http", "https") and origin.netloc:
            host = origin.netloc.replace("a.", "*.", 1) if "{s}" in url else origin.netloc
            images.append(f"{origin.scheme}://{host}")
    scripts = f"script-src 'self' 'nonce-{nonce}'" if nonce else "script-src 'self'"
    return "; ".join(
        [
            "default-src 'self'",
            scripts,
            # Leaflet positions its panes with style attributes
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


#: On every answer, the ones made outside Flask too (public tiles, /metrics).
BASELINE_HEADERS = (
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
)
#: The headers of an answer that is not a page (a tile, the metrics): it may load nothing.
NON_DOCUMENT_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    *BASELINE_HEADERS,
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    settings = current_app.config["REGISTRY_SETTINGS"]
    headers.setdefault(
        "Content-Security-Policy",
        content_security_policy(
            settings.basemap_url,
            g.get("csp_nonce"),
            setting(current_app, "REGISTRY_LOCAL_BASEMAP_URL") or "",
        ),
    )
    for name, value in BASELINE_HEADERS:
        headers.setdefault(name, value)
    signed_in = g.get("current_user") is not None
    public_cache = "public" in (headers.get("Cache-Control") or "")
    if request.endpoint not in KEEP_CACHING and (signed_in or not public_cache):
        headers["Cache-Control"] = "private, no-store"
    return response


class PublicUrlMiddleware:
    """Makes `REGISTRY_PUBLIC_URL` the host, scheme and prefix the app sees, whatever `Host`
    says."""

    def __init__(self, wsgi_app: Callable[..., Iterable[bytes]], public_url: str) -> None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("REGISTRY_PUBLIC_URL must be like https://assets.example.gov")
        self.wsgi_app, self.scheme, self.host = wsgi_app, parts.scheme, parts.netloc
        self.prefix = parts.path.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        environ["HTTP_HOST"] = self.host
        environ["SERVER_NAME"] = self.host.split(":")[0]
        environ["wsgi.url_scheme"] = self.scheme
        environ.pop("HTTP_X_FORWARDED_HOST", None)
        if self.prefix:
            environ["SCRIPT_NAME"] = self.prefix
        return self.wsgi_app(environ, start_response)
