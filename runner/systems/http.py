"""An HTTP endpoint as the system: one POST per call, inputs as the JSON body, outputs answered as
JSON; the system config travels in a header.

httpx is imported where an HTTP system needs it, not at the top: it adds ~40 ms to the start-up of
every run, and most runs call a Python function or a command."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .base import BoundedSystem, SystemCallFailed, SystemStartError, as_outputs, snippet

if TYPE_CHECKING:
    import httpx

SCHEMES = ("http://", "https://")
CONFIG_HEADER = "X-Scorecard-System-Config"


def body_of(response: httpx.Response) -> str:
    return snippet(response.text) or "(empty body)"


class HttpSystem(BoundedSystem):
    """An HTTP endpoint: POST the inputs as JSON, answer a JSON object."""

    def __init__(self, url: str, *, concurrency: int):
        super().__init__(concurrency)
        self.url = url
        self.concurrency = concurrency
        self._client: httpx.AsyncClient | None = None

    @classmethod
    def from_spec(cls, spec: str, *, concurrency: int) -> HttpSystem:
        """The system an ``http(s)://`` input names; raises `SystemStartError` for an unusable URL."""
        import httpx

        try:
            host = httpx.URL(spec).host
        except httpx.InvalidURL as exc:
            raise SystemStartError(f"The `system` input `{spec}` is not a valid URL: {exc}") from None
        if not host:
            raise SystemStartError(f"The `system` input `{spec}` is a URL without a host")
        return cls(spec, concurrency=concurrency)

    async def start(self) -> None:
        import httpx

        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        self._client = httpx.AsyncClient(limits=limits, timeout=None)  # the call's timeout bounds each request

    async def _invoke(self, inputs: dict, system_config: dict | None) -> dict:
        assert self._client is not None, "start() the system before calling it"
        import httpx

        headers = {} if system_config is None else {CONFIG_HEADER: json.dumps(system_config, separators=(",", ":"))}
        try:
            response = await self._client.post(self.url, json=inputs, headers=headers)
        except httpx.HTTPError as exc:
            raise SystemCallFailed(f"POST {self.url} failed: {type(exc).__name__}: {exc}") from None
        if not response.is_success:
            raise SystemCallFailed(f"POST {self.url} answered HTTP {response.status_code}: {body_of(response)}")
        try:
            return as_outputs(response.json())
        except ValueError:
            raise SystemCallFailed(f"POST {self.url} answered something not JSON: {body_of(response)}") from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
