"""GitHub's webhook signatures: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>``.

Several secrets may be configured at once so one can be rotated without dropping deliveries:
a body signed with any of them is genuine."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    """The header value GitHub sends for ``body`` signed with ``secret``."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_genuine(body: bytes, header: str | None, secrets: Iterable[str]) -> bool:
    """True when ``header`` is the signature of ``body`` under one of ``secrets``."""
    if not header or not header.startswith(PREFIX):
        return False
    presented = header.encode()  # bytes: compare_digest refuses non-ASCII text
    # Every secret is compared (no early exit), each in constant time.
    matches = [hmac.compare_digest(sign(secret, body).encode(), presented) for secret in secrets]
    return any(matches)
