"""The HTTP proxy the environment names for an endpoint, as curl, requests and httpx read it:
``HTTPS_PROXY`` / ``HTTP_PROXY`` (or ``ALL_PROXY``) unless ``NO_PROXY`` lists the host; an
``http://user:password@host:port`` proxy URL sends Basic credentials.

Plain-HTTP endpoints are asked through the proxy with their absolute URL; HTTPS endpoints through
a ``CONNECT`` tunnel, over which TLS then runs end to end (:func:`tunnel`).
"""

from __future__ import annotations

import asyncio
import base64
import socket
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit
from urllib.request import getproxies, proxy_bypass

HEAD_END = b"\r\n\r\n"
MAX_HEAD_BYTES = 65536


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    credentials: str | None  # base64 of user:password

    @property
    def authorization_header(self) -> str:
        return f"Proxy-Authorization: Basic {self.credentials}\r\n" if self.credentials else ""


def proxy_for(scheme: str, host: str) -> Proxy | None:
    """The proxy for ``scheme``://``host``, or None; ValueError for a proxy URL that is not http://."""
    proxies = getproxies()
    name = scheme if proxies.get(scheme) else "all"
    url = proxies.get(name)
    if not url or proxy_bypass(host):
        return None
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"proxy {url!r} (the environment's {name}_proxy) must be an http:// URL")
    credentials = None
    if parts.username is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        credentials = base64.b64encode(pair.encode()).decode()
    return Proxy(parts.hostname, parts.port or 80, credentials)


async def tunnel(proxy: Proxy, host: str, port: int) -> socket.socket:
    """A connected socket through which bytes reach ``host``:``port`` (the proxy answered 2xx to
    CONNECT); start TLS on it."""
    loop = asyncio.get_running_loop()
    family, kind, protocol, _, address = (await loop.getaddrinfo(proxy.host, proxy.port, type=socket.SOCK_STREAM))[0]
    sock = socket.socket(family, kind, protocol)
    try:
        sock.setblocking(False)
        await loop.sock_connect(sock, address)
        target = f"{host}:{port}"
        request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{proxy.authorization_header}\r\n"
        await loop.sock_sendall(sock, request.encode())
        head = b""
        while HEAD_END not in head:  # the proxy sends nothing after its answer until TLS starts
            chunk = await loop.sock_recv(sock, 4096)
            if not chunk or len(head) > MAX_HEAD_BYTES:
                raise ConnectionError(f"the proxy {proxy.host}:{proxy.port} closed the tunnel to {target}")
            head += chunk
        status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        if not status_line.split(" ")[1:2] or not status_line.split(" ")[1].startswith("2"):
            raise ConnectionError(f"the proxy {proxy.host}:{proxy.port} refused a tunnel to {target}: {status_line}")
        return sock
    except BaseException:
        sock.close()
        raise
