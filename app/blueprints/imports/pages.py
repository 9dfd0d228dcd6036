"""Import pages for editors: upload a file, map its columns, dry-run, read the report, import.

Uploads are kept under the app's instance folder, one random folder each, readable only by the
editor who uploaded them, until they are imported.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.utils import secure_filename

from app.auth import actor_name, current_user, editing_roles, require_role
from app.database import db_session, session_factory
from registry.imports.batches import batch, batch_problems, recent_batches
from registry.imports.parcels import ImportOptions, MappingError, SourceError, import_parcels
from registry.imports.parcels.mapping import TARGET_FIELDS, resolve_mapping
from registry.imports.parcels.source import describe, layers

bp = Blueprint("imports", __name__, url_prefix="/imports")

ACCEPTED = (".gpkg", ".zip", ".geojson", ".json", ".topojson", ".csv", ".xlsx")
PAGE = 200


def _uploads() -> Path:
    configured = current_app.config.get("UPLOAD_FOLDER")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads"


def _upload(token: str) -> Path:
    folder = _uploads() / secure_filename(token)
    meta_path = folder / "upload.json"
    if not meta_path.exists():
        abort(404, description="That upload is gone; upload the file again.")
    meta = json.loads(meta_path.read_text())
    user = current_user()
    if user is None or meta["user_id"] != user.id:
        abort(404, description="That upload is gone; upload the file again.")
    return folder / meta["name"]


@bp.get("")
@require_role(*editing_roles)
def batches() -> str:
    return render_template("imports/list.html", batches=recent_batches(db_session()))


@bp.route("/new", methods=["GET", "POST"])
@require_role(*editing_roles)
def upload() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("imports/upload.html", accepted=ACCEPTED, error=None)
    file = request.files.get("file")
    name = secure_filename(file.filename or "") if file else ""
    if not file or not name or not name.lower().endswith(ACCEPTED):
        return render_template(
            "imports/upload.html", accepted=ACCEPTED,
            error=f"Choose a file of one of these kinds: {', '.join(ACCEPTED)} "
                  "(zip a Shapefile with its .dbf, .shx and .prj)."), 400
    token = secrets.token_hex(16)  # hex: secure_filename() leaves it as it is
    folder = _uploads() / token
    folder.mkdir(parents=True)
    file.save(folder / name)
    user = current_user()
    assert user is not None
    (folder / "upload.json").write_text(json.dumps({"name": name, "user_id": user.id}))
    return redirect(url_for("imports.prepare", token=token))


@bp.route("/prepare/<token>", methods=["GET", "POST"])
@require_role(*editing_roles)
def prepare(token: str) -> ResponseReturnValue:
    path = _upload(token)
    layer = request.values.get("layer") or None
    try:
        info = describe(path, layer)
        available_layers = layers(path)
    except SourceError as unreadable:
        return render_template("imports/upload.html", accepted=ACCEPTED,
                               error=str(unreadable)), 400
    chosen = {target: request.form.get(f"map_{target}", "") for target in TARGET_FIELDS}
    if request.method == "GET":
        chosen = dict(resolve_mapping(info.fields, {}).columns)
    error: str | None = None
    if request.method == "POST":
        options = ImportOptions(
            layer=layer, mapping={k: v for k, v in chosen.items() if v},
            srs=request.form.get("srs") or None,
            dry_run=request.form.get("action") != "import",
            skip_invalid=bool(request.form.get("skip_invalid")),
            repair=bool(request.form.get("repair")),
        )
        try:
            result = import_parcels(session_factory(), path, options,
                                    current_app.config["REGISTRY_SETTINGS"], actor_name())
        except (SourceError, MappingError) as failure:
            error = str(failure)
        else:
            if not options.dry_run and not result.rejected:
                shutil.rmtree(path.parent, ignore_errors=True)
                return redirect(url_for("imports.report", batch_id=result.batch_id))
            return redirect(url_for("imports.report", batch_id=result.batch_id, token=token))
    return render_template(
        "imports/prepare.html", token=token, info=info, layers=available_layers, layer=layer,
        targets=TARGET_FIELDS, chosen=chosen, error=error,
        srs=request.form.get("srs") or info.crs or "",
    )


@bp.get("/<int:batch_id>")
@require_role(*editing_roles)
def report(batch_id: int) -> str:
    summary = batch(db_session(), batch_id)
    if summary is None:
        abort(404, description=f"There is no import #{batch_id}.")
    page = max(int(request.args.get("page", "1") or 1), 1)
    problems, total = batch_problems(db_session(), batch_id, (page - 1) * PAGE, PAGE)
    token = request.args.get("token")
    if token and not (_uploads() / secure_filename(token) / "upload.json").exists():
        token = None
    return render_template("imports/report.html", batch=summary, problems=problems, total=total,
                           page=page, pages=max((total + PAGE - 1) // PAGE, 1), token=token)
