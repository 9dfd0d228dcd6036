"""The City Asset Registry web app."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from flask import Flask

from registry.settings import Settings


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Defaults, then the environment (`DATABASE_URL`, `SECRET_KEY`, `REGISTRY_*`), then tests."""
    app = Flask(__name__)
    settings = Settings.from_env()
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        REGISTRY_SETTINGS=settings,
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.from_mapping(test_config)
    if not app.config["SECRET_KEY"]:
        if not (app.debug or app.testing or os.environ.get("REGISTRY_DEVELOPMENT")):
            raise RuntimeError("SECRET_KEY must be set outside development")
        # development only: sessions do not survive a restart, which is what we want there
        app.config["SECRET_KEY"] = secrets.token_hex(32)

    from app import auth
    from app import database
    from app import export_runner
    from app import faults
    from app import observability
    from app import problems
    from app import request_limits
    from app import security
    from app.blueprints import auth as auth_views
    from app.blueprints import health
    from app.blueprints import map_view
    from app.blueprints import openapi
    from app.blueprints.city import pages as city_pages
    from app.blueprints.imports import pages as import_pages
    from app.blueprints.kpis import dashboard as kpi_dashboard
    from app.blueprints.kpis import export as kpi_export
    from app.blueprints.leases import api as lease_api
    from app.blueprints.leases import documents as lease_documents
    from app.blueprints.leases import exports as lease_exports
    from app.blueprints.leases import forms as lease_forms
    from app.blueprints.leases import notices as lease_notices
    from app.blueprints.leases import pages as lease_pages
    from app.blueprints.leases import reports as lease_reports
    from app.blueprints.milestones import pages as milestone_pages
    from app.blueprints.ogc import bp as ogc_bp
    from app.blueprints.ogc import transactions as ogc_transactions
    from app.blueprints.open_data import catalog as open_data_catalog
    from app.blueprints.open_data import pages as open_data_pages
    from app.blueprints.open_data import tiles as open_data_tiles
    from app.blueprints.operations import api as operations_api
    from app.blueprints.operations import pages as operations_pages
    from app.blueprints.parcels import api as parcel_api
    from app.blueprints.parcels import pages as parcel_pages
    from app.blueprints.parcels import table as parcel_table
    from app.blueprints.parcels import tiles
    from app.blueprints.parcels import verification

    database.init_app(app)
    export_runner.init_app(app)
    problems.init_app(app)
    security.init_app(app)  # before auth: its CSRF check reads the body
    auth.init_app(app)
    for blueprint in (
        map_view.bp,
        tiles.bp,
        health.bp,
        auth_views.bp,
        parcel_pages.bp,
        parcel_table.bp,
        parcel_api.bp,
        operations_pages.bp,
        verification.bp,
        import_pages.bp,
        lease_pages.bp,
        lease_api.bp,
        lease_reports.bp,
        lease_exports.bp,
        lease_notices.bp,
        lease_forms.bp,
        lease_documents.bp,
        operations_api.occupancy_bp,
        operations_api.costs_bp,
        kpi_dashboard.bp,
        kpi_export.bp,
        milestone_pages.bp,
        city_pages.bp,
        ogc_bp,
        open_data_pages.bp,
        open_data_catalog.bp,
        openapi.bp,
        ogc_transactions.bp,
    ):
        app.register_blueprint(blueprint)
    if app.config["REGISTRY_SETTINGS"].public_map:
        app.wsgi_app = tiles.PublicTileMiddleware(app, app.wsgi_app)  # type: ignore[method-assign]
        app.wsgi_app = open_data_tiles.FilteredTileMiddleware(app, app.wsgi_app)  # type: ignore[method-assign]
    # last: they wrap every middleware above and run after the user is known
    faults.init_app(app)
    request_limits.init_app(app)
    observability.init_app(app)  # outermost: it logs and measures every request, tiles too
    return app
