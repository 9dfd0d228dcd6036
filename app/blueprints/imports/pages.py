"""Import pages for editors: upload a file of parcels, leases, occupancy or costs, map its
columns, dry-run, read the report, import; and the report of every import, its problems counted
by kind, filtered, paged, downloaded as CSV and shown on a map.

Uploads wait in the upload folder (see `uploads`), seen only by the editor who made them, until
they are imported.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import stream_with_context
from flask import url_for
from flask.typing import ResponseReturnValue

from app.auth import actor_name
from app.auth import current_user
from app.auth import editing_roles
from app.auth import require_role
from app.blueprints.imports import uploads
from app.blueprints.imports.kinds import KINDS
from app.blueprints.imports.kinds import Choices
from app.blueprints.imports.kinds import Columns
from app.blueprints.imports.kinds import Kind
from app.blueprints.imports.kinds import UnreadableUpload
from app.blueprints.imports.kinds import read_columns
from app.blueprints.imports.kinds import run_import
from app.city import current_city
from app.database import db_session
from app.database import session_factory
from registry.imports.batches import BatchSummary
from registry.imports.batches import ProblemFilter
from registry.imports.batches import batch
from registry.imports.batches import problem_kinds
from registry.imports.batches import problem_page
from registry.imports.batches import problem_places
from registry.imports.batches import problems_csv
from registry.imports.batches import recent_batches

bp = Blueprint("imports", __name__, url_prefix="/imports")

PAGE = 100
OUTCOMES = {
    "imported": "imported",
    "imported_with_skips": "imported, the invalid rows skipped",
    "unchanged": "unchanged — nothing needed writing",
    "rejected": "rejected — nothing written",
    "dry_run": "dry run — nothing written",
    "failed": "failed — nothing written",
}
SEVERITIES = {
    "error": "errors",
    "warning": "warnings",
    "repaired": "repaired (warnings)",
    "skipped": "skipped rows",
}
_FIELD_LABELS = {"department_code": "department", "row": "row"}
_ONLY_WHEN_ANY = {"incomplete", "warnings", "repaired"}  # counts shown only when not zero


def field_label(field: str) -> str:
    return _FIELD_LABELS.get(field, field.replace("_", " "))


def _user_id() -> int:
    user = current_user()
    if user is None:  # require_role let no anonymous caller in
        abort(401)
    return user.id


def _owned_upload(token: str) -> uploads.Upload:
    upload = uploads.find_upload(token, _user_id())
    if upload is None or upload.kind not in KINDS:
        abort(404, description="That upload is gone; upload the file again.")
    return upload


@bp.get("")
@require_role(*editing_roles)
def batches() -> str:
    return render_template(
        "imports/list.html",
        batches=recent_batches(db_session()),
        pending=uploads.pending_uploads(_user_id()),
        kinds=KINDS,
        outcomes=OUTCOMES,
    )


def _upload_page(error: str | None, kind: str, status: int = 200) -> ResponseReturnValue:
    return render_template(
        "imports/upload.html",
        kinds=KINDS,
        kind=kind,
        error=error,
        accepted=sorted({s for k in KINDS.values() for s in k.accepted}),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@require_role(*editing_roles)
def upload() -> ResponseReturnValue:
    kind = (request.form if request.method == "POST" else request.args).get("kind") or "parcels"
    if kind not in KINDS:
        return _upload_page(f"Choose what the file holds: {', '.join(KINDS)}.", "parcels", 400)
    if request.method == "GET":
        return _upload_page(None, kind)
    file = request.files.get("file")
    original = (file.filename or "").strip()[:255] if file else ""
    name = uploads.stored_name(original)
    accepted = KINDS[kind].accepted
    if not file or not name or not name.lower().endswith(accepted):
        return _upload_page(
            f"{KINDS[kind].title} come as {KINDS[kind].formats}: choose a file ending in "
            f"{', '.join(accepted)} (zip a Shapefile with its .dbf, .shx and .prj).",
            kind,
            400,
        )
    token = uploads.save_upload(file, original, kind, _user_id())
    return redirect(url_for("imports.prepare", token=token))


def _choices_from_form(kind: Kind, saved: Choices) -> Choices:
    """The prepare form's choices; a column select the form did not send keeps what was saved
    (or, never saved, is left to the resolver)."""
    form = request.form
    mapping = {target: form[f"map_{target}"] for target in kind.targets if f"map_{target}" in form}
    mapping = {**{k: v for k, v in saved.mapping.items() if k not in mapping}, **mapping}
    defaults = {
        target: form.get(f"default_{target}", "").strip()
        for target in kind.targets
        if kind.may_default(target)
    }
    return Choices(
        layer=form.get("layer") or None,
        mapping=mapping,
        defaults={k: v for k, v in defaults.items() if v},
        srs=(form.get("srs") or "").strip() or None,
        direction=form.get("direction") if form.get("direction") in ("in", "out") else None,
        skip_invalid=bool(form.get("skip_invalid")),
        repair=bool(form.get("repair")),
    )


@bp.route("/prepare/<token>", methods=["GET", "POST"])
@require_role(*editing_roles)
def prepare(token: str) -> ResponseReturnValue:
    upload = _owned_upload(token)
    kind = KINDS[upload.kind]
    saved = Choices.from_dict(upload.choices)
    if request.method == "POST":
        choices = saved if request.form.get("use_saved") else _choices_from_form(kind, saved)
        dry_run = request.form.get("action") != "import"
        uploads.save_choices(upload, choices.as_dict())
        try:
            report = run_import(
                kind,
                session_factory(),
                upload.path,
                choices,
                dry_run,
                current_app.config["REGISTRY_SETTINGS"],
                actor_name(),
            )
        except UnreadableUpload as failure:
            return _prepare_page(upload, kind, choices, str(failure), 400)
        if not dry_run and not report.rejected:
            uploads.discard(upload)
            return redirect(url_for("imports.report", batch_id=report.batch_id))
        return redirect(url_for("imports.report", batch_id=report.batch_id, token=token))
    layer = request.args.get("layer") or None
    if layer is not None and layer != saved.layer:
        saved = Choices(layer=layer)  # another sheet or layer: its own columns
    return _prepare_page(upload, kind, saved, None)


def _prepare_page(
    upload: uploads.Upload, kind: Kind, choices: Choices, error: str | None, status: int = 200
) -> ResponseReturnValue:
    try:
        columns = read_columns(kind, upload.path, choices.layer, choices.mapping)
    except UnreadableUpload as unreadable:
        return _upload_page(str(unreadable), kind.name, 400)
    return render_template(
        "imports/prepare.html",
        upload=upload,
        kind=kind,
        columns=columns,
        choices=choices,
        fields=_field_rows(kind, columns, choices),
        error=error,
        srs=choices.srs or (columns.crs if kind.name == "parcels" else "") or "",
    ), status


def _field_rows(kind: Kind, columns: Columns, choices: Choices) -> list[dict[str, Any]]:
    """One row of the mapping table per target field: its column and its default."""
    return [
        {
            "target": target,
            "label": field_label(target),
            "required": target in kind.required,
            "column": columns.resolved.get(target, ""),
            "may_default": kind.may_default(target),
            "default": choices.defaults.get(target, ""),
        }
        for target in kind.targets
    ]


@bp.post("/prepare/<token>/discard")
@require_role(*editing_roles)
def discard(token: str) -> ResponseReturnValue:
    uploads.discard(_owned_upload(token))
    return redirect(url_for("imports.batches"))


def _batch(batch_id: int) -> BatchSummary:
    summary = batch(db_session(), batch_id)
    if summary is None:
        abort(404, description=f"There is no import #{batch_id}.")
    return summary


def _filters() -> ProblemFilter:
    return ProblemFilter(
        *(request.args.get(name) or None for name in ("severity", "field", "kind"))
    )


def _counts(summary: BatchSummary) -> list[tuple[str, int]]:
    counts = summary.counts
    unit = "features" if summary.kind == "parcels" else "rows"
    shown = [
        (f"{unit} read", "read"),
        ("valid", "valid"),
        ("incomplete", "incomplete"),
        ("invalid", "invalid"),
        ("problems", "problems"),
        ("warnings", "warnings"),
        ("skipped rows", "skipped"),
        ("repaired", "repaired"),
    ]
    changes = [("inserted", "inserted"), ("updated", "updated"), ("unchanged", "unchanged")]
    if summary.outcome == "dry_run":
        changes = [(f"would be {label}", key) for label, key in changes]
    if summary.outcome in ("dry_run", "rejected", "failed"):
        changes = [(label, key) for label, key in changes if counts.get(key)]
    return [
        (label, int(counts[key]))
        for label, key in shown + changes
        if key in counts and (counts[key] or key not in _ONLY_WHEN_ANY)
    ]


@bp.get("/<int:batch_id>")
@require_role(*editing_roles)
def report(batch_id: int) -> str:
    summary = _batch(batch_id)
    filters = _filters()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    problems, total = problem_page(db_session(), batch_id, filters, (page - 1) * PAGE, PAGE)
    kinds = problem_kinds(db_session(), batch_id)
    severities: dict[str, int] = {}
    for item in kinds:
        severities[item.severity] = severities.get(item.severity, 0) + item.count
    token = request.args.get("token")
    upload = uploads.find_upload(token, _user_id()) if token else None
    kind = KINDS.get(summary.kind)
    query = {
        key: value
        for key, value in (
            ("severity", filters.severity),
            ("field", filters.field),
            ("kind", filters.kind),
        )
        if value
    }
    return render_template(
        "imports/report.html",
        batch=summary,
        outcome=OUTCOMES.get(summary.outcome, summary.outcome),
        counts=_counts(summary),
        problems=problems,
        total=total,
        page=page,
        pages=max((total + PAGE - 1) // PAGE, 1),
        kinds=kinds,
        severities=severities,
        severity_labels=SEVERITIES,
        filters=filters,
        query=query,
        field_label=field_label,
        id_label=kind.id_label if kind else "Record",
        upload=upload,
        saved=Choices.from_dict(upload.choices) if upload else None,
        unit="Feature" if summary.kind == "parcels" else "Row",
        settings=current_app.config["REGISTRY_SETTINGS"],
        extent=list(current_city().extent),
    )


@bp.get("/<int:batch_id>/problems.csv")
@require_role(*editing_roles)
def problems_download(batch_id: int) -> Response:
    summary = _batch(batch_id)
    response = Response(
        stream_with_context(problems_csv(db_session(), summary, _filters())), mimetype="text/csv"
    )
    response.headers["Content-Disposition"] = (
        f'attachment; filename="import-{batch_id}-problems.csv"'
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<int:batch_id>/problems.geojson")
@require_role(*editing_roles)
def problems_map(batch_id: int) -> Response:
    _batch(batch_id)
    response = jsonify(problem_places(db_session(), batch_id, _filters()))
    response.mimetype = "application/geo+json"
    return response
