"""The judge's HTTP client over TLS and through the environment's HTTP proxy (a CONNECT tunnel
for HTTPS, the absolute URL for plain HTTP; credentials from the proxy's URL or .netrc), against
real servers on loopback: an HTTPS server with a certificate made here and trusted through
SSL_CERT_FILE, and a small proxy."""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from scorecard_core.scoring.chat_http import ChatEndpoint
from tests.scorecard_core.scoring.test_chat_http import BODY, COMPLETION, http_answer, serve

OK = http_answer(BODY, f"Content-Length: {len(BODY)}")
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture
def tls(tmp_path: Path, monkeypatch) -> ssl.SSLContext:
    """A server context for ``localhost`` whose certificate this process trusts (SSL_CERT_FILE)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, False, False, False), critical=True)
        .add_extension(identifier, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(identifier), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = tmp_path / "localhost.pem", tmp_path / "localhost.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate_file, key_file)
    return context


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch):
    for variable in PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
        monkeypatch.delenv(variable.upper(), raising=False)


async def answer_ok(_: int) -> bytes:
    return OK


def port_of(server: asyncio.base_events.Server) -> int:
    return server.sockets[0].getsockname()[1]


async def start_proxy(seen: list[bytes]) -> asyncio.base_events.Server:
    """A proxy that tunnels CONNECT and, for a plain HTTP request, answers it itself; ``seen``
    gets every request head it receives."""

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        method, target = head.split(b" ")[:2]
        if method == b"CONNECT":
            host, port = target.decode().rsplit(":", 1)
            upstream_reader, upstream_writer = await asyncio.open_connection(host, int(port))
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(relay(reader, upstream_writer), relay(upstream_reader, writer))
            return
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
        )
        await reader.readexactly(length)
        writer.write(OK)
        await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def test_https_with_a_certificate_trusted_through_ssl_cert_file(tls):
    async def scenario() -> list[int]:
        server, per_connection = await serve(answer_ok, tls=tls)
        client = ChatEndpoint(f"https://localhost:{port_of(server)}/v1", "sk-test", max_retries=0, timeout=5)
        for _ in range(3):
            assert json.loads((await client.post("chat/completions", {})).body) == COMPLETION
        await client.aclose()
        server.close()
        return per_connection

    assert asyncio.run(scenario()) == [3]


async def ask_twice_through_a_proxy(tls: ssl.SSLContext, monkeypatch, proxy_credentials: str) -> list[bytes]:
    """Two calls to an HTTPS endpoint through the environment's proxy; the heads the proxy saw."""
    server, per_connection = await serve(answer_ok, tls=tls)
    seen: list[bytes] = []
    proxy = await start_proxy(seen)
    monkeypatch.setenv("HTTPS_PROXY", f"http://{proxy_credentials}127.0.0.1:{port_of(proxy)}")
    client = ChatEndpoint(f"https://localhost:{port_of(server)}/v1", "sk-test", max_retries=0, timeout=5)
    for _ in range(2):
        assert json.loads((await client.post("chat/completions", {})).body) == COMPLETION
    await client.aclose()
    server.close()
    proxy.close()
    assert per_connection == [2]  # one tunnel, kept alive
    return seen


def test_https_through_the_environments_proxy_tunnels_with_its_credentials(tls, monkeypatch):
    [connect] = asyncio.run(ask_twice_through_a_proxy(tls, monkeypatch, "ada:s%3Acret@"))
    assert connect.startswith(b"CONNECT localhost:")
    assert b"Proxy-Authorization: Basic YWRhOnM6Y3JldA==\r\n" in connect  # ada:s:cret
    assert b"sk-test" not in connect  # the API key goes through the tunnel only


def test_the_proxys_credentials_can_come_from_netrc(tls, monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login ada password s:cret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    [connect] = asyncio.run(ask_twice_through_a_proxy(tls, monkeypatch, ""))
    assert b"Proxy-Authorization: Basic YWRhOnM6Y3JldA==\r\n" in connect


def test_plain_http_through_the_proxy_asks_with_the_absolute_url_and_its_credentials(monkeypatch):
    async def scenario() -> list[bytes]:
        seen: list[bytes] = []
        proxy = await start_proxy(seen)
        monkeypatch.setenv("http_proxy", f"http://ada:s%3Acret@127.0.0.1:{port_of(proxy)}")
        client = ChatEndpoint("http://judge.invalid:8000/v1", "sk-test", max_retries=0, timeout=5)
        assert json.loads((await client.post("chat/completions", {})).body) == COMPLETION
        await client.aclose()
        proxy.close()
        return seen

    [request] = asyncio.run(scenario())
    assert request.startswith(b"POST http://judge.invalid:8000/v1/chat/completions HTTP/1.1\r\n")
    assert b"Host: judge.invalid:8000\r\n" in request
    assert b"Proxy-Authorization: Basic YWRhOnM6Y3JldA==\r\n" in request


def test_no_proxy_hosts_are_asked_directly(monkeypatch):
    async def scenario() -> list[int]:
        server, per_connection = await serve(answer_ok)
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        client = ChatEndpoint(f"http://127.0.0.1:{port_of(server)}/v1", "sk-test", max_retries=0, timeout=5)
        await client.post("chat/completions", {})
        await client.aclose()
        server.close()
        return per_connection

    assert asyncio.run(scenario()) == [1]


def test_a_proxy_that_is_not_http_is_refused_naming_it(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "socks5://127.0.0.1:1080")
    with pytest.raises(ValueError, match=r"proxy 'socks5://127.0.0.1:1080' \(the environment's https_proxy\)"):
        ChatEndpoint("https://api.openai.com/v1", "sk-test", max_retries=0, timeout=5)
