"""API keys: shown once at creation, stored only as a SHA-256 hash.

Keys are 256 bits of randomness, so a fast hash is enough: nobody can brute-force the preimage.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlmodel import Session, col, select

from . import web_sessions
from .errors import NotFound
from .models import ApiKey, id_of, utcnow

KEY_PREFIX = "ak_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str) -> tuple[ApiKey, str]:
    """Store a new key; returns the row and the only copy of the plaintext key."""
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=plaintext[:10], key_hash=_digest(plaintext))
    session.add(row)
    session.flush()
    return row, plaintext


def verify(session: Session, presented: str) -> ApiKey | None:
    row = session.exec(select(ApiKey).where(col(ApiKey.key_hash) == _digest(presented))).first()
    if row is None or row.revoked_at is not None:
        return None
    return row


def revoke(session: Session, name_or_prefix: str) -> list[ApiKey]:
    """Revoke every active key with this name or key prefix, ending its web UI sessions."""
    rows = session.exec(
        select(ApiKey).where(
            ((col(ApiKey.name) == name_or_prefix) | (col(ApiKey.prefix) == name_or_prefix[:10]))
            & col(ApiKey.revoked_at).is_(None)
        )
    ).all()
    if not rows:
        raise NotFound(f"no active API key named {name_or_prefix!r}; `scorecard api-key list` shows them")
    for row in rows:
        row.revoked_at = utcnow()
        session.add(row)
    web_sessions.end_for_keys(session, [id_of(row) for row in rows])
    return list(rows)


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.exec(select(ApiKey).order_by(col(ApiKey.id))).all())
