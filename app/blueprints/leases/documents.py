"""A lease's documents over HTTP: attach (editors, finance, admins), download (every signed-in
role, as reads lease financials), remove (managing roles). See `registry.leases.documents`.

A download is always an attachment (`Content-Disposition: attachment` with the uploaded name as
RFC 5987 `filename*` and an ASCII fallback), of the media type read from the content when it was
attached, with `nosniff` (every answer has it): a stored file is never rendered by the browser
as a page of this site.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import flash
from flask import redirect
from flask import request
from flask import url_for
from werkzeug.utils import secure_filename
from werkzeug.wrappers import Response as BaseResponse
from werkzeug.wsgi import wrap_file

from app.auth import actor_name
from app.auth import lease_managing_roles
from app.auth import reading_roles
from app.auth import require_role
from app.database import db_session
from app.database import engine
from app.database import session_factory
from app.security import setting
from registry.db import unit_of_work
from registry.errors import NotFound
from registry.fields import RecordInvalid
from registry.leases.documents import attach_document
from registry.leases.documents import detach_document
from registry.leases.documents import forget_unused_file
from registry.leases.documents import lease_document
from registry.leases.documents import max_document_bytes
from registry.stored_files import StoredFileDamaged
from registry.stored_files import document_root
from registry.stored_files import open_stored_file

bp = Blueprint("lease_documents", __name__)


def documents_folder() -> Path:
    """`REGISTRY_DOCUMENT_DIR` from the app's config (tests) or the environment."""
    configured = setting(current_app, "REGISTRY_DOCUMENT_DIR")
    return Path(configured) if configured else document_root()


def document_limit() -> int:
    return max_document_bytes(
        {"REGISTRY_MAX_DOCUMENT_MB": setting(current_app, "REGISTRY_MAX_DOCUMENT_MB")}
    )


def _back(lease_number: str) -> BaseResponse:
    return redirect(url_for("leases.lease_page", lease_number=lease_number) + "#documents")


@bp.post("/leases/<lease_number>/documents")
@require_role(*lease_managing_roles)
def attach(lease_number: str) -> BaseResponse:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("Not attached: choose a file to attach.", "lease-error")
        return _back(lease_number)
    kind = request.form.get("kind")
    db_session().close()
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            document = attach_document(
                session,
                documents_folder(),
                lease_number,
                upload.stream,
                upload.filename,
                kind,
                actor_name(),
                max_bytes=document_limit(),
            )
    except NotFound:
        abort(404, description=f"There is no lease {lease_number} in the registry.")
    except RecordInvalid as invalid:
        flash("Not attached: " + "; ".join(p.message for p in invalid.problems), "lease-error")
    else:
        flash(f"{document.file_name} is attached ({document.kind_label.lower()}).", "lease-saved")
    return _back(lease_number)


def content_disposition(file_name: str) -> str:
    """`attachment` with an ASCII fallback name and the real one as RFC 5987 `filename*`."""
    fallback = secure_filename(file_name) or "document"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@bp.get("/leases/<lease_number>/documents/<int:document_id>")
@require_role(*reading_roles)
def download(lease_number: str, document_id: int) -> Response:
    try:
        document = lease_document(db_session(), lease_number, document_id)
        handle = open_stored_file(documents_folder(), document.sha256)
    except NotFound:
        abort(404, description="This lease has no such document.")
    except StoredFileDamaged:
        current_app.logger.error("stored file %s is missing", document.sha256)
        abort(410, description="The document's file is missing from the document store.")
    response = Response(
        wrap_file(request.environ, handle), mimetype=document.media_type, direct_passthrough=True
    )
    response.content_length = document.size_bytes
    response.headers["Content-Disposition"] = content_disposition(document.file_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.post("/leases/<lease_number>/documents/<int:document_id>/remove")
@require_role(*lease_managing_roles)
def remove(lease_number: str, document_id: int) -> BaseResponse:
    db_session().close()
    try:
        with unit_of_work(session_factory(), actor_name()) as session:
            document = detach_document(session, lease_number, document_id)
    except NotFound:
        abort(404, description="This lease has no such document.")
    forget_unused_file(engine(), documents_folder(), document.sha256, actor_name())
    flash(f"{document.file_name} is removed from the lease.", "lease-saved")
    return _back(lease_number)
