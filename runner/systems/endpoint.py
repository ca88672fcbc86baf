"""An HTTP API as the system, described by a version's config: the server renders the body over
each testcase's inputs, sends it, and takes the output from the JSON answer at ``responsePath``.

Header values may be secrets (``{"secret": "..."}``): they are sent, and replaced by ``***`` in
every error, since an API may echo request headers in the body we quote.

The server makes these requests on its users' behalf, so it guards against server-side request
forgery: before each call the host is resolved, and link-local and cloud-metadata addresses are
refused unless the server allows them (`ALLOW_SETTING`). Loopback and private addresses are
allowed: self-hosted users call their own services. Redirects are not followed (a 3xx is an
error), so the host checked is the host called. httpx resolves the name again to connect; a DNS
server answering differently the second time (rebinding) is beyond this guard.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import socket
from typing import Any

import httpx

from .base import BoundedSystem, SystemCallFailed, as_outputs, snippet
from .http import body_of
from .templates import TemplateFailed, render, system_context
from .version_config import BODYLESS_METHODS, EndpointConfig, JsonPointer, Secret

ALLOW_SETTING = "SCORECARD_ENDPOINT_ALLOW_LINK_LOCAL=true"
METADATA_HOSTS = frozenset({"metadata.google.internal"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address) for address in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
LIST_INDEX = re.compile(r"0|[1-9][0-9]*")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


async def check_destination(url: str, *, allow_link_local: bool) -> list[IpAddress]:
    """The addresses the URL's host resolves to; raises `SystemCallFailed` when the host is a cloud
    metadata service or resolves to a link-local address, unless ``allow_link_local``."""
    parsed = httpx.URL(url)
    host = parsed.host
    if not allow_link_local and host.rstrip(".").lower() in METADATA_HOSTS:
        raise SystemCallFailed(_refusal(url, f"{host} is a cloud metadata service"))
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # socket.gaierror: no such host, or no DNS
        raise SystemCallFailed(f"{url}: its host {host} could not be resolved ({exc})") from None
    addresses = sorted({ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found}, key=str)
    forbidden = [] if allow_link_local else [(address, _forbidden(address)) for address in addresses]
    for address, what in forbidden:
        if what:
            subject = f"{host} is" if host == str(address) else f"{host} resolves to {address},"
            raise SystemCallFailed(_refusal(url, f"{subject} {what}"))
    return addresses


def _forbidden(address: IpAddress) -> str | None:
    unwrapped = getattr(address, "ipv4_mapped", None) or address  # ::ffff:169.254.169.254 too
    if unwrapped in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if unwrapped.is_link_local:
        return "a link-local address"
    return None


def _refusal(url: str, why: str) -> str:
    return f"the server refuses to call {url}: {why}; set {ALLOW_SETTING} on the server to allow it"


def resolve_pointer(pointer: JsonPointer, document: Any) -> Any:
    """The value at ``pointer`` in ``document``; raises `SystemCallFailed` saying where it stops."""
    value = document
    for token in pointer.tokens:
        if isinstance(value, dict) and token in value:
            value = value[token]
        elif isinstance(value, list) and LIST_INDEX.fullmatch(token) and int(token) < len(value):
            value = value[int(token)]
        else:
            kind = f"a list of {len(value)}" if isinstance(value, list) else type(value).__name__
            raise SystemCallFailed(
                f"responsePath {pointer.text} is not in the answer: no {token!r} in {kind}; "
                f"the answer: {snippet(json.dumps(document))}"
            )
    return value


class EndpointSystem(BoundedSystem):
    """A version's HTTP endpoint: the rendered body sent, the value at ``responsePath`` the output."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        concurrency: int,
        allow_link_local: bool = False,
        all_inputs: list[dict] | None = None,
    ):
        super().__init__(concurrency)
        self.config = config
        self.concurrency = concurrency
        self.allow_link_local = allow_link_local
        self.all_inputs = all_inputs
        self.where = f"{config.method} {config.url}"
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        # No redirects: the checked host must be the one called. The call's timeout bounds each request.
        self._client = httpx.AsyncClient(limits=limits, timeout=None, follow_redirects=False)

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict:
        """``system_config`` is unused: the version's config is the system itself."""
        try:
            return await self._request(inputs)
        except SystemCallFailed as exc:
            raise SystemCallFailed(self._redacted(str(exc))) from None

    async def _request(self, inputs: dict) -> dict:
        assert self._client is not None, "start() the system before calling it"
        body = self._body(inputs)
        await check_destination(self.config.url, allow_link_local=self.allow_link_local)
        headers = httpx.Headers(
            {name: value.value if isinstance(value, Secret) else value for name, value in self.config.headers.items()}
        )
        if body is not None and "content-type" not in headers:
            headers["Content-Type"] = "application/json"
        try:
            response = await self._client.request(self.config.method, self.config.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SystemCallFailed(f"{self.where} failed: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise SystemCallFailed(f"{self.where} answered HTTP {response.status_code}: {body_of(response)}")
        try:
            answer = response.json()
        except ValueError:
            raise SystemCallFailed(f"{self.where} answered something not JSON: {body_of(response)}") from None
        pointer = self.config.response_path
        return as_outputs(answer if pointer is None else resolve_pointer(pointer, answer))

    def _body(self, inputs: dict) -> bytes | None:
        """The rendered body, checked to be JSON; without a body template, the inputs as JSON."""
        if self.config.body is None:
            return None if self.config.method in BODYLESS_METHODS else json.dumps(inputs).encode()
        try:
            text = render(self.config.body, system_context(inputs, self.all_inputs))
        except TemplateFailed as exc:
            raise SystemCallFailed(f"config.body could not be rendered: {exc}") from None
        try:
            json.loads(text)
        except ValueError as exc:
            raise SystemCallFailed(
                f"config.body rendered something that is not JSON ({exc}); insert values with "
                f"{{{{ inputs.<name> | tojson }}}}, which quotes and escapes them: {snippet(text) or '(empty)'}"
            ) from None
        return text.encode()

    def _redacted(self, text: str) -> str:
        for secret in self.config.secrets:
            text = text.replace(secret, "***")
        return text

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
