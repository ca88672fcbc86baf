"""Files attached to a session, identified by (session ID, file path), bytes in the database.

The flow the official SDK follows: *initiate* declares the content (SHA-256, size, type) and gets
an upload URL unless that exact content is already committed; the client PUTs the bytes there
(``store_upload`` checks them against the declaration); *commit* makes the uploaded content the
attachment's current one and drops the content it replaces. Until a commit, readers keep seeing
the previously committed content.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, delete, select

from .errors import Conflict, InvalidField, NotFound, PayloadTooLarge
from .models import Attachment, AttachmentContent, utcnow

SHA256_PATTERN = "^[0-9a-f]{64}$"


@dataclass(frozen=True)
class Declared:
    session_id: str
    file_path: str
    content_type: str
    sha256: str
    size_bytes: int
    filename: str | None = None
    metadata: dict[str, Any] | None = None


def check_size(size_bytes: int, limit: int, field: str) -> None:
    if size_bytes > limit:
        raise PayloadTooLarge(
            f"`{field}` is {size_bytes} bytes, more than the {limit}-byte limit for an attachment "
            "(the request body limit); split the file",
            {"field": field, "limit": limit},
        )


def initiate(session: Session, declared: Declared, limit: int) -> tuple[Attachment, bool]:
    """The attachment for the declared content, and whether that content is already committed
    (then nothing needs uploading)."""
    if not re.fullmatch(SHA256_PATTERN, declared.sha256):
        raise InvalidField("sha256", "must be the lowercase hex SHA-256 of the content (64 characters)")
    check_size(declared.size_bytes, limit, "sizeBytes")
    statement = select(Attachment).where(
        col(Attachment.session_id) == declared.session_id, col(Attachment.file_path) == declared.file_path
    )
    attachment = session.exec(statement).first()
    if attachment is None:
        attachment = Attachment(session_id=declared.session_id, file_path=declared.file_path)
    if declared.filename is not None:
        attachment.filename = declared.filename
    if declared.metadata is not None:
        attachment.caller_metadata = declared.metadata
    already = attachment.sha256 == declared.sha256 and attachment.size_bytes == declared.size_bytes
    if already:  # the newest declaration wins over an upload initiated before it
        attachment.content_type = declared.content_type
        attachment.pending_sha256 = attachment.pending_size_bytes = attachment.pending_content_type = None
    else:
        attachment.pending_sha256 = declared.sha256
        attachment.pending_size_bytes = declared.size_bytes
        attachment.pending_content_type = declared.content_type
    session.add(attachment)
    session.flush()
    return attachment, already


def get(session: Session, attachment_id: str) -> Attachment:
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound.of("attachment", attachment_id)
    return attachment


def store_upload(session: Session, attachment_id: str, sha256: str, data: bytes) -> None:
    """Keep uploaded bytes for the upload initiated with ``sha256``, if they are what it declared."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.pending_sha256 != sha256:
        raise NotFound(
            "This upload URL is no longer current (the attachment was deleted or initiated "
            "again); initiate the upload again",
            {"id": attachment_id},
        )
    if len(data) != attachment.pending_size_bytes:
        raise InvalidField(
            "body",
            f"has {len(data)} bytes, but the upload was initiated with sizeBytes {attachment.pending_size_bytes}",
        )
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256:
        raise InvalidField("body", f"has SHA-256 {actual}, but the upload was initiated with sha256 {sha256}")
    if _content(session, attachment_id, sha256) is None:
        session.add(AttachmentContent(attachment_id=attachment_id, sha256=sha256, data=data))
        session.flush()


def commit(session: Session, attachment: Attachment) -> Attachment:
    """Make the uploaded content current; without a pending upload this changes nothing."""
    if attachment.pending_sha256 is None:
        if attachment.uploaded_at is None:
            raise Conflict("Nothing to commit: initiate an upload first")
        return attachment
    if _content(session, attachment.id, attachment.pending_sha256) is None:
        raise Conflict(
            "The file has not been uploaded yet: PUT its bytes to the `uploadUrl` from initiate, then commit",
            {"id": attachment.id},
        )
    attachment.sha256, attachment.size_bytes, attachment.content_type = (
        attachment.pending_sha256,
        attachment.pending_size_bytes,
        attachment.pending_content_type,
    )
    attachment.pending_sha256 = attachment.pending_size_bytes = attachment.pending_content_type = None
    attachment.uploaded_at = utcnow()
    session.add(attachment)
    session.exec(
        delete(AttachmentContent).where(
            col(AttachmentContent.attachment_id) == attachment.id, col(AttachmentContent.sha256) != attachment.sha256
        )
    )
    session.flush()
    return attachment


def committed_in(session_id: str) -> Any:
    """The statement of a session's attachments that have committed content."""
    return select(Attachment).where(col(Attachment.session_id) == session_id, col(Attachment.uploaded_at).is_not(None))


def content(session: Session, attachment_id: str, sha256: str) -> bytes:
    row = _content(session, attachment_id, sha256)
    attachment = session.get(Attachment, attachment_id)
    if row is None or attachment is None or attachment.sha256 != sha256:
        raise NotFound(
            "This download URL is no longer current (the attachment was deleted or changed); "
            "get the attachment again for a new one",
            {"id": attachment_id},
        )
    return row.data


def _content(session: Session, attachment_id: str, sha256: str) -> AttachmentContent | None:
    statement = select(AttachmentContent).where(
        col(AttachmentContent.attachment_id) == attachment_id, col(AttachmentContent.sha256) == sha256
    )
    return session.exec(statement).first()
