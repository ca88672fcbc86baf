"""Attachments: files of a session, uploaded through a URL this server signs and serves.

``bp`` is the API (initiate, commit, get, delete, list per session). ``files`` serves the signed
URLs the API hands out, outside /api/v2 like an object store's: the client PUTs the bytes to the
upload URL and GETs them from the download URL without an API key, the signature being the
permission. An attachment is at most as large as a request body (15 MB).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import Field, WithJsonSchema

from scorecard_core import attachments, wire
from scorecard_core.errors import NotFound
from scorecard_core.models import Attachment, utcnow
from scorecard_core.settings import load_or_create_secret_key

from .. import database
from ..settings import current_settings
from .parsing import Body, paginate, parse, raw_body

bp = Blueprint("attachments", __name__)
files = Blueprint("attachment_files", __name__, url_prefix="/attachment-files")

URL_LIFETIME = timedelta(hours=1)
UPLOAD, DOWNLOAD = "attachment-upload", "attachment-download"


class AttachmentInitiate(Body):
    session_id: str = Field(min_length=1, max_length=500)
    file_path: str = Field(min_length=1, max_length=2000)
    content_type: str = Field(min_length=1, max_length=255)
    sha256: Annotated[str, WithJsonSchema({"type": "string", "pattern": attachments.SHA256_PATTERN})]
    size_bytes: int = Field(ge=0)
    filename: str | None = Field(default=None, max_length=500)
    metadata: dict[str, Any] | None = None


def _signer(kind: str) -> URLSafeTimedSerializer:
    if not current_app.secret_key:
        current_app.secret_key = load_or_create_secret_key(current_settings())
    return URLSafeTimedSerializer(current_app.secret_key, salt=kind)


def _signed_url(kind: str, attachment_id: str, sha256: str) -> tuple[str, str]:
    """A URL of ``files`` for this content, and when it stops working (ISO 8601)."""
    token = _signer(kind).dumps([attachment_id, sha256])
    expires = (utcnow() + URL_LIFETIME).isoformat()
    return f"{_base_url()}{files.url_prefix}/{token}", expires


def _base_url() -> str:
    """Where the client reached the API: SCORECARD_PUBLIC_URL when it names the same host (its
    scheme survives a TLS-terminating proxy), else the host the request came to."""
    public = current_settings().public_url.rstrip("/")
    return public if urlsplit(public).netloc == request.host else request.host_url.rstrip("/")


def _unsigned(kind: str, token: str) -> tuple[str, str]:
    try:
        attachment_id, sha256 = _signer(kind).loads(token, max_age=URL_LIFETIME.total_seconds())
    except (BadSignature, ValueError, TypeError):
        raise NotFound("This URL is unknown or has expired; ask the API for a new one") from None
    return attachment_id, sha256


@bp.post("/attachments")
def initiate_attachment():
    body = parse(AttachmentInitiate)
    session = database.session()
    declared = attachments.Declared(
        session_id=body.session_id,
        file_path=body.file_path,
        content_type=body.content_type,
        sha256=body.sha256,
        size_bytes=body.size_bytes,
        filename=body.filename,
        metadata=body.metadata,
    )
    attachment, already = attachments.initiate(session, declared, current_settings().max_body_bytes)
    session.commit()
    answer: dict[str, Any] = {
        "id": attachment.id,
        "alreadyExists": already,
        "uploadUrl": None,
        "uploadMethod": None,
        "expiresAt": None,
    }
    if not already:
        url, expires = _signed_url(UPLOAD, attachment.id, body.sha256)
        answer.update(uploadUrl=url, uploadMethod="PUT", expiresAt=expires)
    return answer, 201 if not already else 200


@bp.post("/attachments/<attachment_id>/commit")
def commit_attachment(attachment_id: str):
    session = database.session()
    attachment = attachments.commit(session, attachments.get(session, attachment_id))
    session.commit()
    return wire.attachment(attachment)


@bp.get("/attachments/<attachment_id>")
def get_attachment(attachment_id: str):
    attachment = attachments.get(database.session(), attachment_id)
    answer = {**wire.attachment(attachment), "downloadUrl": None, "downloadExpiresAt": None}
    if attachment.sha256 is not None:
        answer["downloadUrl"], answer["downloadExpiresAt"] = _signed_url(DOWNLOAD, attachment.id, attachment.sha256)
    return answer


@bp.delete("/attachments/<attachment_id>")
def delete_attachment(attachment_id: str):
    session = database.session()
    session.delete(attachments.get(session, attachment_id))
    session.commit()
    return {"success": True}


@bp.get("/sessions/<session_id>/attachments")
def list_attachments(session_id: str):
    statement = attachments.committed_in(session_id)
    return paginate(database.session(), statement, Attachment.id, lambda rows: [wire.attachment(a) for a in rows])


@files.put("/<token>")
def upload_content(token: str):
    attachment_id, sha256 = _unsigned(UPLOAD, token)
    session = database.session()
    attachments.store_upload(session, attachment_id, sha256, raw_body())
    session.commit()
    return {"success": True}


@files.get("/<token>")
def download_content(token: str):
    attachment_id, sha256 = _unsigned(DOWNLOAD, token)
    data = attachments.content(database.session(), attachment_id, sha256)
    # Served as a download, never rendered: its content type is the uploader's claim, and this origin
    # also serves the signed-in UI.
    return Response(
        data,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": "attachment", "Cache-Control": "private, no-store"},
    )
