"""Who is calling the fake GitHub and how much they may: a token (``Authorization: token X`` or
``Bearer X``), nobody, or a GitHub App presenting its RS256 JWT on the ``/app`` endpoints, with
GitHub's 401 messages; and GitHub's hourly rate limit per credential, with its headers."""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

import jwt

from tests.fakes.github_model import App, World, now_iso
from tests.fakes.github_operations import ApiError, Caller

# operations GitHub answers only to an app's JWT, never to a token
APP_OPERATIONS = {"apps/create-installation-access-token", "apps/get-repo-installation"}
JWT_MAX_LIFETIME = 600  # GitHub refuses JWTs that expire more than 10 minutes ahead
CLOCK_DRIFT = 60
UNDECODABLE = "A JSON web token could not be decoded"
ANONYMOUS_LIMIT = 60
WINDOW_SECONDS = 3600


def authenticate(world: World, operation_id: str, authorization: str | None) -> Caller:
    if not authorization:
        if operation_id in APP_OPERATIONS:
            raise ApiError(401, UNDECODABLE)
        return Caller()
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() not in ("token", "bearer") or not credential:
        raise ApiError(401, "Bad credentials")
    if operation_id in APP_OPERATIONS:
        return Caller(app=app_of_jwt(world, credential))
    token = world.tokens.get(credential)
    if token is None or (token.expires_at is not None and token.expires_at < now_iso()):
        raise ApiError(401, "Bad credentials")
    return Caller(user=world.user(token.login), token=token)


def app_of_jwt(world: World, text: str) -> App:
    """The app a JWT speaks for: three base64url parts, RS256, ``iss`` a known app id, a live
    ``iat``..``exp`` window of at most 10 minutes; signed by the app's key when one was registered."""
    parts = text.split(".")
    if len(parts) != 3 or not parts[2]:
        raise ApiError(401, UNDECODABLE)
    header, claims = _json_part(parts[0]), _json_part(parts[1])
    if header.get("alg") != "RS256" or not all(isinstance(claims.get(k), int) for k in ("iat", "exp")):
        raise ApiError(401, UNDECODABLE)
    now = int(time.time())
    if claims["iat"] > now + CLOCK_DRIFT:
        raise ApiError(
            401, "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
        )
    if claims["exp"] <= now:
        raise ApiError(
            401,
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        )
    if claims["exp"] - claims["iat"] > JWT_MAX_LIFETIME + CLOCK_DRIFT:
        raise ApiError(401, "'Expiration time' claim ('exp') is too far in the future")
    app = world.apps.get(int(claims["iss"])) if str(claims.get("iss", "")).isdigit() else None
    if app is None:
        raise ApiError(401, "Integration not found")
    if app.public_key is not None:
        try:
            jwt.decode(text, app.public_key, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
        except jwt.InvalidTokenError:
            raise ApiError(401, UNDECODABLE) from None
    return app


def _json_part(part: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (binascii.Error, ValueError):
        raise ApiError(401, UNDECODABLE) from None
    if not isinstance(decoded, dict):
        raise ApiError(401, UNDECODABLE)
    return decoded


def credential_of(authorization: str | None) -> str | None:
    return (authorization or "").partition(" ")[2].strip() or None


class RateLimits:
    """GitHub's primary rate limit: ``limit`` requests an hour per credential, 60 for nobody."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._windows: dict[str, list[int]] = {}  # credential -> [used, reset epoch]

    def limit(self, credential: str | None) -> int:
        return self._limit if credential else ANONYMOUS_LIMIT

    def window(self, credential: str | None) -> tuple[int, int]:
        """Requests used and the reset time (epoch seconds) of the credential's current hour."""
        now = int(time.time())
        window = self._windows.setdefault(credential or "", [0, now + WINDOW_SECONDS])
        if window[1] <= now:
            window[:] = [0, now + WINDOW_SECONDS]
        return window[0], window[1]

    def count(self, credential: str | None, caller: Caller) -> None:
        used, _ = self.window(credential)
        if used >= self.limit(credential):
            who = f"user ID {caller.user.id}" if caller.user else "127.0.0.1"
            raise ApiError(403, f"API rate limit exceeded for {who}.")
        self._windows[credential or ""][0] += 1

    def headers(self, credential: str | None) -> dict[str, str]:
        used, reset = self.window(credential)
        limit = self.limit(credential)
        return {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(limit - used, 0)),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-used": str(used),
            "x-ratelimit-resource": "core",
        }
