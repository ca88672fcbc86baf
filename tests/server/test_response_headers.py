"""Every response, over real HTTP, carries ``nosniff`` and frame protection: API, webhook, UI,
static files and error pages (400, 404, 405, 500) alike. Oversized headers answer 431 and
unknown API paths 404, both in the JSON error shape, under the test server and under
``scorecard serve``; unknown UI paths get the styled error page."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.support.processes import serving

from .test_bad_input import assert_error
from .test_ui import data_dir, sign_in  # noqa: F401  (data_dir: the UI's secret key per test)

# Twelve 3 KB headers: 36 KB, over our 32 KiB limit but under every server's own.
OVERSIZED = {f"X-Filler-{i}": "x" * 3000 for i in range(12)}
UNDER_THE_LIMIT = {f"X-Filler-{i}": "x" * 3000 for i in range(8)}


def assert_protected(response: requests.Response) -> None:
    where = f"{response.request.method} {response.request.path_url} -> {response.status_code}"
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", ""), where


@pytest.fixture
def crashing_routes(server):
    """Two routes that fail unexpectedly, one under the API and one in the UI, for the 500 pages.
    Added before the server's first request, as Flask requires."""

    def crash():
        raise RuntimeError("an unexpected failure")

    server.app.add_url_rule("/api/v2/test-crash", "test_api_crash", crash)
    server.app.add_url_rule("/test-crash", "test_ui_crash", crash)
    return server


def test_every_response_carries_nosniff_and_frame_protection(crashing_routes, api_key):
    server = crashing_routes
    api = {"Authorization": f"Bearer {api_key}"}
    browser = sign_in(server, api_key)
    responses = [
        requests.get(f"{server.api_url}/projects", headers=api),
        requests.get(f"{server.api_url}/projects"),  # 401
        requests.get(f"{server.api_url}/openapi.json"),
        requests.get(f"{server.api_url}/nope"),
        requests.delete(f"{server.api_url}/openapi.json"),  # 405
        requests.post(
            f"{server.api_url}/projects", headers={**api, "Content-Type": "application/json"}, data=b"{not json"
        ),  # 400
        requests.get(f"{server.api_url}/test-crash"),
        requests.post(f"{server.url}/webhooks/github", data=b"{}"),  # no secret configured
        requests.get(f"{server.url}/webhooks/github"),  # 405
        requests.get(f"{server.url}/sign-in"),
        requests.head(f"{server.url}/sign-in"),
        requests.get(f"{server.url}/", allow_redirects=False),  # 302 to sign-in
        browser.get(f"{server.url}/"),
        browser.get(f"{server.url}/ui/static/ui.css"),
        requests.get(f"{server.url}/nope"),
        browser.get(f"{server.url}/projects/999999"),
        requests.get(f"{server.url}/sign-out"),  # 405
        requests.get(f"{server.url}/test-crash"),
    ]
    assert [r.status_code for r in responses] == [
        200,
        401,
        200,
        404,
        405,
        400,
        500,
        401,
        405,
        200,
        200,
        302,
        200,
        200,
        404,
        404,
        405,
        500,
    ]
    for response in responses:
        assert_protected(response)
    # JSON and plain answers get a policy that loads nothing; the UI keeps its own.
    assert responses[0].headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "style-src 'self'" in responses[12].headers["Content-Security-Policy"]


def test_errors_answer_json_under_the_api_and_webhooks_and_the_styled_page_elsewhere(crashing_routes):
    server = crashing_routes
    for path in ("/api/v2/nope", "/api/v2/projects/1/nope", "/api/nope"):
        body = assert_error(requests.get(f"{server.url}{path}"), 404)
        assert body["code"] == "NOT_FOUND", path
    assert assert_error(requests.get(f"{server.url}/webhooks/github"), 405)["code"] == "METHOD_NOT_ALLOWED"
    crashed = assert_error(requests.get(f"{server.api_url}/test-crash"), 500)
    assert "an unexpected failure" not in crashed["message"]

    for path, status, heading in (
        ("/nope", 404, "Not found"),
        ("/projects/1/runs/2/nope/deeper", 404, "Not found"),
        ("/sign-out", 405, "Something is not right"),
        ("/test-crash", 500, "Something is not right"),
    ):
        page = requests.get(f"{server.url}{path}")
        assert page.status_code == status and page.headers["Content-Type"].startswith("text/html"), path
        assert f"<h1>{heading}</h1>" in page.text and "/ui/static/ui.css" in page.text, path
        assert "Back to projects" in page.text and "Traceback" not in page.text, path
        assert "an unexpected failure" not in page.text
    assert set(requests.get(f"{server.url}/sign-out").headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def assert_header_refusal(response: requests.Response) -> None:
    body = assert_error(response, 431)
    assert body["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE" and "32 KiB" in body["message"]
    assert_protected(response)


def test_oversized_headers_answer_431_in_the_json_shape(server, api_key):
    api = {"Authorization": f"Bearer {api_key}"}
    for url in (f"{server.api_url}/projects", f"{server.url}/webhooks/github", f"{server.url}/sign-in"):
        assert_header_refusal(requests.get(url, headers={**api, **OVERSIZED}))
    # Refused before authentication: no key needed to learn the headers are too large.
    assert_header_refusal(requests.get(f"{server.api_url}/projects", headers=OVERSIZED))
    under = requests.get(f"{server.api_url}/projects", headers={**api, **UNDER_THE_LIMIT})
    assert under.status_code == 200 and under.json()["data"] == []


def test_scorecard_serve_answers_oversized_headers_and_unknown_paths_in_json(sqlite_url, tmp_path):
    with serving(sqlite_url, tmp_path / "serve.log") as served:
        assert_header_refusal(requests.get(f"{served.api_url}/projects", headers=OVERSIZED))
        assert_error(requests.get(f"{served.api_url}/nope"), 404)
        assert_protected(requests.get(f"{served.api_url}/openapi.json"))
        page = requests.get(f"{served.url}/nope")
        assert page.status_code == 404 and "<h1>Not found</h1>" in page.text
        assert_protected(page)
        served.stop()


def test_scorecard_serve_answers_its_own_parser_refusals_in_our_shapes(sqlite_url, tmp_path):
    """Past waitress's own header limit (256 KiB) and for bodies it cannot parse, waitress answers
    before the app is called: the answers still carry our shape and headers."""
    huge = {f"X-Filler-{i}": "x" * 8000 for i in range(40)}  # ~320 KiB
    with serving(sqlite_url, tmp_path / "serve.log") as served:
        api = requests.get(f"{served.api_url}/projects", headers=huge)
        body = assert_error(api, 431)
        assert body["code"] == "REQUEST_HEADER_FIELDS_TOO_LARGE" and "larger than the server accepts" in body["message"]
        assert_protected(api)
        hook = requests.post(f"{served.url}/webhooks/github", headers=huge)
        assert hook.status_code == 431 and "headers" in hook.json()["message"]
        assert_protected(hook)
        page = requests.get(f"{served.url}/projects", headers=huge)
        assert page.status_code == 431 and "headers" in page.text
        assert_protected(page)
        garbled = raw_exchange(
            served.url,
            b"POST /api/v2/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ak_x"
            b"\r\nTransfer-Encoding: chunked\r\n\r\nnot-a-chunk-size\r\n\r\n",
        )
        head, _, body = garbled.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 400") and b"X-Content-Type-Options: nosniff" in head, head
        assert json.loads(body)["code"] == "BAD_REQUEST"
        served.stop()


def raw_exchange(url: str, request: bytes) -> bytes:
    """Bytes no HTTP client would send, and everything the server answers before it closes."""
    address = urlsplit(url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return answer
