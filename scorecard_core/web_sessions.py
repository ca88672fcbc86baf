"""Web UI sessions kept on the server, so that signing out, revoking the API key used to sign in,
or the idle and absolute lifetimes end a session even for a copy of its cookie.

The browser's cookie carries a random token; the table stores only its SHA-256 (the token has
256 bits of randomness, so a fast hash suffices), so a copy of the database cannot be replayed as
a session. Deleting a row ends that session.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col, select

from .models import ApiKey, WebSession, utcnow

# Page views refresh a session's last_seen_at at most this often (or every tenth of the idle
# lifetime, when that is shorter), not on every request, which would make every read a write.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetimes:
    idle: timedelta
    absolute: timedelta

    @classmethod
    def of(cls, idle_minutes: float, lifetime_hours: float) -> Lifetimes:
        return cls(idle=timedelta(minutes=idle_minutes), absolute=timedelta(hours=lifetime_hours))

    def has_ended(self, row: WebSession, now: datetime) -> bool:
        return now - row.last_seen_at > self.idle or now - row.created_at > self.absolute


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, api_key_id: int, lifetimes: Lifetimes) -> str:
    """Store a new session for the key (sweeping ended ones); returns the cookie's token."""
    now = utcnow()
    session.exec(
        delete(WebSession).where(
            (col(WebSession.last_seen_at) < now - lifetimes.idle)
            | (col(WebSession.created_at) < now - lifetimes.absolute)
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(WebSession(token_hash=_digest(token), api_key_id=api_key_id, created_at=now, last_seen_at=now))
    return token


def signed_in_key(session: Session, token: str, lifetimes: Lifetimes) -> ApiKey | None:
    """The API key of the token's live session, or None; a session found ended is deleted."""
    found = session.exec(
        select(WebSession, ApiKey)
        .join(ApiKey, col(ApiKey.id) == col(WebSession.api_key_id))
        .where(col(WebSession.token_hash) == _digest(token))
    ).first()
    if found is None:
        return None
    row, key = found
    now = utcnow()
    if key.revoked_at is not None or lifetimes.has_ended(row, now):
        # A statement, not session.delete(row): concurrent requests may both find it ended.
        session.exec(delete(WebSession).where(col(WebSession.id) == row.id))
        return None
    if now - row.last_seen_at >= min(TOUCH_INTERVAL, lifetimes.idle / 10):
        row.last_seen_at = now
        session.add(row)
    return key


def end(session: Session, token: str) -> None:
    session.exec(delete(WebSession).where(col(WebSession.token_hash) == _digest(token)))


def end_for_keys(session: Session, api_key_ids: Iterable[int]) -> None:
    """End every session signed in with these keys (on revocation)."""
    session.exec(delete(WebSession).where(col(WebSession.api_key_id).in_(list(api_key_ids))))
