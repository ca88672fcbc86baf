"""A small Scorecard v2 REST client over ``requests``, for hosted Scorecard and our server.

It retries 408/409/429/5xx like the official SDK (honouring Retry-After), pages through lists,
and raises :class:`ApiError` with the server's code and message. A POST is retried only when it
carries idempotency keys, or when the answer shows it was not carried out (429, a refused
connection): a retried POST that had in fact been done (a 502 from a proxy after the server
created the run) would create a second one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from .errors import ScorecardError

RETRY_STATUSES = {408, 409, 429, 500, 502, 503, 504}
# Answers that say the request was not carried out (rate limited), so even a POST may be repeated.
NOT_CARRIED_OUT = {429}


class ApiError(ScorecardError):
    """The API answered with an error."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(f"{status} {code}: {message}", details)
        self.status = status
        self.code = code


class ScorecardClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 60.0, max_retries: int = 3):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.http = requests.Session()
        self.http.headers.update({"Authorization": f"Bearer {api_key}", "User-Agent": "scorecard-github"})

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None) -> Any:
        url = f"{self.base_url}{path}"
        repeatable = method != "POST" or carries_idempotency_keys(json)
        retried_statuses = RETRY_STATUSES if repeatable else NOT_CARRIED_OUT
        retries = self.max_retries
        for attempt in range(retries + 1):
            try:
                response = self.http.request(method, url, json=json, params=params, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                # A request that never reached the server may be sent again, whatever it is.
                never_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
                if attempt == retries or not (repeatable or never_sent):
                    raise ApiError(0, "CONNECTION_ERROR", f"cannot reach {self.base_url}: {exc}") from None
                time.sleep(min(0.5 * 2**attempt, 8))
                continue
            if response.status_code in retried_statuses and attempt < retries:
                time.sleep(_retry_delay(response, attempt))
                continue
            if response.status_code >= 400:
                raise _error(response)
            if not response.content:
                return None
            return response.json()
        raise AssertionError("unreachable")

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, json=body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, json=body)

    def paginate(self, path: str, limit: int = 100, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self.get(path, limit=limit, cursor=cursor, **params)
            yield from page.get("data", [])
            cursor = page.get("nextCursor")
            if not page.get("hasMore") or not cursor:
                return


def carries_idempotency_keys(body: Any) -> bool:
    """Whether repeating this POST body creates nothing twice: a batch (our extension) whose every
    item has an idempotency key, given (``idempotencyKey``) or the one our server derives from its
    ``testcaseId`` (and ``trial``)."""
    items = body.get("items") if isinstance(body, dict) else None
    return (
        isinstance(items, list)
        and bool(items)
        and all(isinstance(i, dict) and (i.get("idempotencyKey") or i.get("testcaseId") is not None) for i in items)
    )


def _refused(exc: requests.RequestException) -> bool:
    """No connection could be made (refused, unreachable): nothing was sent."""
    cause = exc.args[0] if exc.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


def _retry_delay(response: requests.Response, attempt: int) -> float:
    """The wait the server asked for (milliseconds, seconds or an HTTP date), at most a minute;
    else our own backoff."""
    header = response.headers.get("retry-after-ms")
    if header and header.replace(".", "", 1).isdigit():
        return min(float(header) / 1000, 60)
    header = response.headers.get("retry-after")
    if header and header.replace(".", "", 1).isdigit():
        return min(float(header), 60)
    when = _http_date(header)
    if when is not None:
        return min(max(when - time.time(), 0), 60)
    return min(0.5 * 2**attempt, 8)


def _http_date(header: str | None) -> float | None:
    """An HTTP date (RFC 9110) as a Unix time; None when ``header`` is not one."""
    try:
        return parsedate_to_datetime(header).timestamp() if header else None
    except (TypeError, ValueError):
        return None


def _error(response: requests.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ApiError(
        response.status_code,
        str(body.get("code") or response.reason or "ERROR"),
        str(body.get("message") or response.text[:500]),
        body.get("details") if isinstance(body.get("details"), dict) else None,
    )
