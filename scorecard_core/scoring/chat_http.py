"""A lean HTTP/1.1 client for one OpenAI-compatible endpoint: POST a JSON body, get the reply.

Why not the openai client: at 256 calls in flight it spent ~2.3 ms of CPU per call (its typed
request transform, pydantic answers, and httpx's connection pool, which scans every connection for
every request); this spends ~0.1 ms. It keeps what the judge relies on from the openai client:
keep-alive connections pooled per endpoint, the same retries (408, 409, 429, 5xx, connection
faults and timeouts; ``x-should-retry``; Retry-After or Retry-After-Ms up to two minutes, else
exponential backoff with jitter) and failures raised as the openai client's exception types, so
``model_errors.describe_model_error`` words them the same way. It also honours the proxy settings of
the environment (``http_proxy``) and SSL_CERT_FILE / SSL_CERT_DIR, as httpx does.

An endpoint pools connections on the event loop it first runs on; use it from that loop only.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import ssl
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import openai

from .http_proxy import proxy_for, tunnel

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 120.0  # a server asking for a longer wait is not retried
RETRIED_STATUSES = frozenset({408, 409, 429})
HEAD_END = b"\r\n\r\n"
# A pooled connection the server closed while idle fails before any answer: that request is sent
# again on a new connection (as browsers and httpx do), without counting as a retry.
STALE_CONNECTION_ERRORS = (ConnectionError, asyncio.IncompleteReadError)


@dataclass(frozen=True)
class Reply:
    """A 2xx answer: ``headers`` with lower-case names, ``body`` decoded from gzip or deflate."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class EndpointStatusError(openai.APIStatusError):
    """An HTTP error status, as the openai client raises it (``body`` is the JSON's ``error``
    object when there is one). No httpx request lies behind it, so the parent's constructor,
    which copies one, is not called."""

    def __init__(self, status: int, headers: Mapping[str, str], body: object) -> None:
        message = f"Error code: {status} - {body}"
        Exception.__init__(self, message)
        self.message, self.status_code, self.request_id = message, status, headers.get("x-request-id")
        self.body = body.get("error", body) if isinstance(body, dict) else body
        error = self.body if isinstance(self.body, dict) else {}
        self.code, self.param, self.type = error.get("code"), error.get("param"), error.get("type")


class EndpointConnectionError(openai.APIConnectionError):
    """The endpoint could not be reached or dropped the connection."""

    def __init__(self, message: str = "Connection error.") -> None:
        Exception.__init__(self, message)
        self.message, self.body, self.code, self.param, self.type = message, None, None, None, None


class EndpointTimeoutError(EndpointConnectionError, openai.APITimeoutError):
    """The endpoint did not answer within the timeout."""

    def __init__(self) -> None:
        super().__init__("Request timed out.")


class ChatEndpoint:
    """POSTs JSON to paths under ``base_url`` with ``Authorization: Bearer <api_key>``; each try
    may take ``timeout`` seconds, and transient failures are tried ``max_retries`` more times."""

    def __init__(self, base_url: str, api_key: str, *, max_retries: int, timeout: float) -> None:
        url = urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"base URL {base_url!r} must be an http:// or https:// URL")
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"  # as the openai client shows it
        self.max_retries = max_retries
        self.timeout = timeout
        self._host = url.hostname
        self._tls = ssl.create_default_context() if url.scheme == "https" else None
        self._port = url.port or (443 if self._tls else 80)
        self._base_path = url.path.rstrip("/") + "/"
        self._query = f"?{url.query}" if url.query else ""
        host = f"[{self._host}]" if ":" in self._host else self._host  # an IPv6 address
        host = host if url.port is None else f"{host}:{url.port}"
        self._proxy = proxy_for(url.scheme, self._host)
        through_proxy = self._proxy is not None and self._tls is None  # HTTPS tunnels instead
        # A proxy is asked for plain HTTP with the absolute URL.
        self._target_prefix = f"http://{host}" if through_proxy else ""
        self._headers = (
            f"Host: {host}\r\nAuthorization: Bearer {api_key}\r\nContent-Type: application/json\r\n"
            "Accept: application/json\r\nAccept-Encoding: gzip, deflate\r\nUser-Agent: scorecard\r\n"
            + (self._proxy.authorization_header if through_proxy and self._proxy else "")
        ).encode()
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        """The 2xx reply to ``body`` POSTed at ``path`` (relative to the base URL); raises
        :class:`EndpointStatusError`, :class:`EndpointConnectionError` or :class:`EndpointTimeoutError`
        once the retries are spent."""
        payload = json.dumps(body).encode()  # ASCII escapes: a lone surrogate from a record still encodes
        request = (
            f"POST {self._target_prefix}{self._base_path}{path}{self._query} HTTP/1.1\r\n".encode()
            + self._headers
            + b"Content-Length: %d\r\n\r\n" % len(payload)
            + payload
        )
        for retry in range(self.max_retries + 1):
            last_try = retry == self.max_retries
            try:
                reply = await asyncio.wait_for(self._exchange(request), self.timeout)
            except asyncio.TimeoutError:
                if last_try:
                    raise EndpointTimeoutError() from None
                await asyncio.sleep(backoff(retry))
                continue
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, zlib.error) as exc:
                if last_try:
                    raise EndpointConnectionError(f"Connection error: {exc!r}") from None
                await asyncio.sleep(backoff(retry))
                continue
            if 200 <= reply.status < 300:
                return reply
            retry_after = retry_after_seconds(reply.headers)
            if last_try or not should_retry(reply.status, reply.headers, retry_after):
                raise EndpointStatusError(reply.status, reply.headers, _error_body(reply))
            usable = retry_after is not None and math.isfinite(retry_after) and 0 < retry_after <= MAX_RETRY_AFTER
            await asyncio.sleep(retry_after if usable and retry_after is not None else backoff(retry))
        raise AssertionError("unreachable: the last try returns or raises")

    async def _exchange(self, request: bytes) -> Reply:
        while True:
            reader, writer, reused = await self._connection()
            try:
                writer.write(request)
                await writer.drain()
                reply, reusable = await _read_reply(reader)
            except STALE_CONNECTION_ERRORS:
                writer.close()
                if reused:
                    continue
                raise
            except BaseException:  # a timeout's cancellation included: the connection is mid-answer
                writer.close()
                raise
            if reusable:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return reply

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return reader, writer, True
            writer.close()
        if self._proxy is None:
            reader, writer = await asyncio.open_connection(
                self._host, self._port, ssl=self._tls, server_hostname=self._host if self._tls else None
            )
        elif self._tls is None:
            reader, writer = await asyncio.open_connection(self._proxy.host, self._proxy.port)
        else:
            sock = await tunnel(self._proxy, self._host, self._port)
            reader, writer = await asyncio.open_connection(sock=sock, ssl=self._tls, server_hostname=self._host)
        return reader, writer, False

    async def aclose(self) -> None:
        """Close the pooled connections (the endpoint stays usable: it opens new ones)."""
        idle, self._idle = self._idle, []
        for _reader, writer in idle:
            writer.close()
        for _reader, writer in idle:
            try:
                await writer.wait_closed()
            except OSError:
                pass


async def _read_reply(reader: asyncio.StreamReader) -> tuple[Reply, bool]:
    """The reply and whether its connection may carry another request."""
    while True:
        head = (await reader.readuntil(HEAD_END)).decode("latin-1").split("\r\n")
        version, status_text = head[0].split(" ", 2)[:2]
        status = int(status_text)
        if status >= 200:  # 1xx are interim answers
            break
    headers: dict[str, str] = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    reusable = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
    if status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    else:  # the body ends with the connection
        body, reusable = await reader.read(), False
    if headers.get("content-encoding", "").lower() in ("gzip", "deflate"):
        body = zlib.decompress(body, wbits=47)  # 32 + 15: either header, detected
    return Reply(status, headers, body), reusable


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    chunks: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            return b"".join(chunks)
        chunks.append((await reader.readexactly(size + 2))[:-2])


def _error_body(reply: Reply) -> object:
    text = reply.text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The wait the server asks for: Retry-After-Ms, else Retry-After in seconds or as a date."""
    for name, divisor in (("retry-after-ms", 1000), ("retry-after", 1)):
        value = headers.get(name)
        if value is not None:
            try:
                return float(value) / divisor
            except ValueError:
                pass
    try:
        date = email.utils.parsedate_tz(headers.get("retry-after", ""))
        return None if date is None else email.utils.mktime_tz(date) - time.time()
    except (TypeError, ValueError, OverflowError):
        return None


def should_retry(status: int, headers: Mapping[str, str], retry_after: float | None) -> bool:
    if retry_after is not None and math.isfinite(retry_after) and retry_after > MAX_RETRY_AFTER:
        return False
    explicit = headers.get("x-should-retry")
    if explicit in ("true", "false"):
        return explicit == "true"
    return status in RETRIED_STATUSES or status >= 500


def backoff(retry: int) -> float:
    """Exponential from 0.5 s to at most 8 s, less up to 25% at random (the openai client's)."""
    return min(INITIAL_RETRY_DELAY * 2.0**retry, MAX_RETRY_DELAY) * (1 - 0.25 * random.random())
