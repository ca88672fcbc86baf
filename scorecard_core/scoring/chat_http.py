"""One OpenAI-compatible endpoint over aiohttp: POST a JSON body, get the reply.

Why not the openai client: at 256 calls in flight it spent ~2-3 ms of CPU per call (its typed
request transform, pydantic answers, and httpx's connection pool, which scans every connection for
every request); aiohttp, with its C parser, spends ~0.2 ms. What the judge relies on from the
openai client is kept here: the same retries (408, 409, 429, 5xx, connection faults and timeouts;
``x-should-retry``; Retry-After or Retry-After-Ms up to two minutes, else exponential backoff with
jitter) and failures raised as the openai client's exception types, so
``model_errors.describe_model_error`` words them the same way. The environment's proxy settings
(HTTP_PROXY, HTTPS_PROXY, NO_PROXY, credentials in the proxy URL or .netrc) are read as aiohttp's
``trust_env`` reads them (see :func:`_proxy_for`); SSL_CERT_FILE / SSL_CERT_DIR are OpenSSL's
default verify paths.

An endpoint opens its session (and connection pool) on the event loop it first runs on; use it
from that loop only.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import openai
from aiohttp.helpers import ProxyInfo, proxies_from_env

INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
MAX_RETRY_AFTER = 120.0  # a server asking for a longer wait is not retried
RETRIED_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class Reply:
    """A 2xx answer: ``headers`` looked up case-insensitively, ``body`` decoded from gzip or deflate."""

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
        self._url_prefix = f"{url.scheme}://{url.netloc}{url.path.rstrip('/')}/"
        self._query = f"?{url.query}" if url.query else ""
        # Sent with each request, not as the session's headers: aiohttp would copy those into a
        # CONNECT to the proxy, the API key with them.
        self._headers = {
            "Authorization": f"Bearer {api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "scorecard",
        }
        proxy = _proxy_for(url.scheme, url.hostname)
        self._proxy = proxy.proxy if proxy else None
        credentials = proxy.proxy_auth if proxy else None
        self._proxy_headers = {"Proxy-Authorization": credentials.encode()} if credentials else {}
        if url.scheme == "http":  # asked of the proxy itself, not through a tunnel
            self._headers.update(self._proxy_headers)
        self._session: aiohttp.ClientSession | None = None

    def _session_here(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Read SSL_CERT_FILE / SSL_CERT_DIR now (aiohttp's own context read them at its import);
            # ~20 ms of loading certificates, so only for an https:// endpoint.
            tls = ssl.create_default_context() if self._url_prefix.startswith("https:") else True
            connector = aiohttp.TCPConnector(limit=0, ssl=tls)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout)
            )
        return self._session

    async def post(self, path: str, body: Mapping[str, Any]) -> Reply:
        """The 2xx reply to ``body`` POSTed at ``path`` (relative to the base URL); raises
        :class:`EndpointStatusError`, :class:`EndpointConnectionError` or :class:`EndpointTimeoutError`
        once the retries are spent."""
        session = self._session_here()
        url = f"{self._url_prefix}{path}{self._query}"
        payload = json.dumps(body).encode()  # ASCII escapes: a lone surrogate from a record still encodes
        for retry in range(self.max_retries + 1):
            last_try = retry == self.max_retries
            try:
                async with session.post(
                    url, data=payload, headers=self._headers, proxy=self._proxy, proxy_headers=self._proxy_headers
                ) as response:
                    reply = Reply(response.status, response.headers, await response.read())
            except asyncio.TimeoutError:  # aiohttp's timeouts are, some also ClientErrors
                if last_try:
                    raise EndpointTimeoutError() from None
                await asyncio.sleep(backoff(retry))
                continue
            except (aiohttp.ClientError, OSError) as exc:
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

    async def aclose(self) -> None:
        """Close the session and its connections (the endpoint stays usable: it opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()


def _proxy_for(scheme: str, host: str) -> ProxyInfo | None:
    """The environment's proxy for ``scheme``://``host``, read as aiohttp's ``trust_env`` reads it
    (HTTP(S)_PROXY, not ALL_PROXY, unless NO_PROXY lists the host; credentials from the proxy's URL
    or .netrc), once per endpoint: ``trust_env`` itself reads it on worker threads for every request
    (doubling aiohttp's CPU per call) and adds .netrc credentials for the endpoint's host, which
    aiohttp refuses beside the Authorization header. aiohttp speaks only to an http:// proxy and
    goes around any other: that is refused here, naming the setting."""
    setting = getproxies().get(scheme)
    if not setting or proxy_bypass(host):
        return None
    if urlsplit(setting).scheme.lower() != "http":
        raise ValueError(f"proxy {setting!r} (the environment's {scheme}_proxy) must be an http:// URL")
    return proxies_from_env()[scheme]


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
