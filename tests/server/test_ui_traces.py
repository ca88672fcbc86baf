"""The Traces pages over real HTTP, with spans sent to the server over OTLP: the list and its
filters, paging, bad filters (a 400 naming the field), hostile span text escaped, the setup help
of an empty project, a trace's tree and selected span, its linked records and the record page's
link back, and 404s."""

from __future__ import annotations

import html
import re

import pytest

from tests.server.test_otel import post
from tests.server.test_scoring_lifecycle import make_project
from tests.support.trace_world import LINK_ID, many_traces, sample, three_traces, trace_id

from .test_ui import assert_escaped, browser, data_dir  # noqa: F401  (fixtures)


def send(server, api_key, *requests) -> None:
    for request in requests:
        answer = post(f"{server.url}/otel/v1/traces", api_key, request.SerializeToString())
        assert answer.status_code == 200, answer.text


@pytest.fixture
def project(client, server, api_key) -> dict:
    """A project holding the three traces of ``trace_world``."""
    project, _testset, _cases = make_project(client, cases=1)
    send(server, api_key, *three_traces(project["id"]))
    return project


def traces_url(server, project: dict) -> str:
    return f"{server.url}/projects/{project['id']}/traces"


def listed(page: str) -> list[str]:
    """The trace IDs a Traces page lists, in order."""
    return re.findall(r'href="/projects/\d+/traces/([0-9a-f]{32})"', page)


def test_the_list_newest_first_with_each_traces_figures(browser, server, project):
    page = browser.get(traces_url(server, project))
    assert page.status_code == 200
    assert listed(page.text) == [trace_id(3), trace_id(2), trace_id(1)]
    assert_escaped(page.text)  # the root-less trace's earliest span is named with HTML
    rows = page.text.split("<tbody>")[1].split("</tr>")
    checkout = html.unescape(rows[2])
    for shown in ("2025-12-04 00:01:00 UTC", "checkout", "POST /checkout", "1.00 s", "gpt-4o-mini-2024-07-18", "15"):
        assert shown in checkout
    assert "$0.000004" in checkout  # 12 and 3 tokens of gpt-4o-mini
    assert "error" in rows[1] and "—" in rows[1]  # an errored span; my-model has no price
    assert '<a href="/projects/{}/traces" aria-current="page">Traces</a>'.format(project["id"]) in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"service": "search"}, [3, 2]),
        ({"span_name": "^openai"}, [1]),
        ({"q": "zebra"}, [3]),
        ({"from": "2025-12-04T00:02", "to": "2025-12-04T00:03:30"}, [3, 2]),
        ({"service": "checkout", "q": "zebra"}, []),
    ],
)
def test_filters(browser, server, project, query, expected):
    page = browser.get(traces_url(server, project), params=query)
    assert page.status_code == 200
    assert listed(page.text) == [trace_id(n) for n in expected]
    if not expected:
        assert "No traces match these filters" in page.text
    for value in query.values():  # the form keeps what was asked
        assert f'value="{value}"' in page.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"span_name": "(unclosed"}, "span_name"),
        ({"from": "last tuesday"}, "from"),
        ({"to": "2025-12-04T25:00"}, "to"),
        ({"cursor": "%%%"}, "cursor"),
        ({"q": "x\x00y"}, "q"),
    ],
)
def test_bad_filters_are_a_400_naming_the_field(browser, server, project, query, field):
    page = browser.get(traces_url(server, project), params=query)
    assert page.status_code == 400
    assert f"`{field}`" in page.text


def test_pages_of_fifty_traces(browser, server, api_key, project):
    send(server, api_key, many_traces(project["id"], 50))
    first = browser.get(traces_url(server, project), params={"span_name": "step|POST|GET|retrieve"})
    shown = listed(first.text)
    assert len(shown) == 50 and shown[0] == trace_id(59)
    next_url = html.unescape(re.search(r'href="([^"]+)">Next page', first.text).group(1))
    assert "span_name=" in next_url  # the filters carry on
    second = browser.get(f"{server.url}{next_url}")
    assert shown[-1] == trace_id(10) and listed(second.text) == [trace_id(3), trace_id(2), trace_id(1)]
    assert "Next page" not in second.text and "Newest" in second.text


def test_an_empty_project_says_how_to_send_traces(browser, server, client):
    empty = client.post("/projects", {"name": "quiet"})
    page = browser.get(f"{server.url}/projects/{empty['id']}/traces")
    assert page.status_code == 200
    endpoint = f"{server.url}/otel/v1/traces"
    assert f"SCORECARD_TRACING_URL={endpoint}" in page.text
    assert "wrap_openai" in page.text and f'"endpoint": "{endpoint}"' in html.unescape(page.text)


def trace_page(browser, server, project, trace: int, **params):
    return browser.get(f"{traces_url(server, project)}/{trace_id(trace)}", params=params)


def test_a_traces_tree_and_selected_span(browser, server, project):
    page = trace_page(browser, server, project, 1)
    assert page.status_code == 200
    tree = page.text.split("data-span-tree")[1].split("</ol>")[0]
    assert re.findall(r'class="span-row depth-(\d)', tree) == ["0", "1"]
    assert tree.index("POST /checkout") < tree.index("openai.chat")
    assert 'data-offset="10.0" data-width="50.0"' in tree  # 100 ms in, 500 ms of the trace's 1 s
    assert "style=" not in page.text  # the page's policy forbids inline styles
    assert '<h2>Span <span class="span-name">POST /checkout</span>' in page.text  # the root, by default

    chat = trace_page(browser, server, project, 1, span="0000000000000002").text
    details = html.unescape(chat.split('id="span-details"')[1])
    for shown in ("openai.chat", "What is 2+2?", "assistant", "12 input · 3 output", "$0.000004", "gen_ai.system"):
        assert shown in details
    assert "gpt-4o-mini-2024-07-18" in details and "llm-app" not in details  # the resource's service

    unpriced = html.unescape(trace_page(browser, server, project, 2, span="0000000000000002").text)
    assert "quota exceeded" in unpriced and "No price for my-model" in unpriced


def test_hostile_span_text_is_escaped_and_orphans_stand_at_the_top(browser, server, project):
    for span in ("0000000000000001", "0000000000000002"):  # a message, then an attribute, holding HTML
        page = trace_page(browser, server, project, 3, span=span)
        assert page.status_code == 200
        assert_escaped(page.text)
        tree = page.text.split("data-span-tree")[1].split("</ol>")[0]
        assert re.findall(r'class="span-row depth-(\d)', tree) == ["0", "0"]
        assert tree.count("parent missing") == 2
    assert "cache miss" in page.text and "2025-12-04T00:03:00.010000+00:00" in page.text  # the event


def test_unknown_traces_and_spans(browser, server, client, project):
    other = client.post("/projects", {"name": "other"})
    for where, missing in ((project, "0" * 32), (project, "not-a-trace"), (other, trace_id(1))):
        page = browser.get(f"{traces_url(server, where)}/{missing}")
        assert page.status_code == 404 and "has no trace" in page.text
    page = trace_page(browser, server, project, 1, span="ffffffffffffffff")
    assert page.status_code == 400 and "`span`" in page.text


def test_records_and_traces_link_both_ways(browser, server, client, project):
    run = client.post(f"/projects/{project['id']}/runs", {"metricIds": []})
    linked = client.post(f"/runs/{run['id']}/records", {"inputs": {}, "outputs": {}, "otelLinkId": LINK_ID})
    sampled = client.post(f"/runs/{run['id']}/records", {"inputs": {}, "outputs": {}})
    plain = client.post(f"/runs/{run['id']}/records", {"inputs": {}, "outputs": {}})
    sample(server.app.extensions["scorecard.engine"], int(project["id"]), "embed", int(sampled["id"]))
    for trace, record in ((1, linked), (2, sampled)):
        record_url = f"/projects/{project['id']}/runs/{run['id']}/records/{record['id']}"
        assert f'href="{record_url}">Record #{record["id"]}</a>' in trace_page(browser, server, project, trace).text
        record_page = browser.get(f"{server.url}{record_url}").text
        assert f'href="/projects/{project["id"]}/traces/{trace_id(trace)}">Trace</a>' in record_page
    assert "No records" in trace_page(browser, server, project, 3).text
    plain_page = browser.get(f"{server.url}/projects/{project['id']}/runs/{run['id']}/records/{plain['id']}").text
    assert ">Trace</a>" not in plain_page
