"""The metrics pages over real HTTP: the list with groups, a metric's page (settings, versions with
what changed, the runs that used it), the edit and new-metric forms going through the API's own
rules (an edit becomes a version when a run next uses it), refused input shown again with the
field named, and metric groups created, edited and deleted."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from server.ui import metrics as metrics_page

from .test_ui import HOSTILE, browser, csrf_token, data_dir, text_of  # noqa: F401  (fixtures)

GUIDELINES = f"Is the answer polite?\nIt must not {HOSTILE}.\nIt must be short."
TEMPLATE = f"Judge this: {{{{ outputs }}}} {HOSTILE}"
EXACT = {"type": "exact_match", "outputField": "answer", "expectedField": "answer"}


@dataclass
class Project:
    id: str
    polite: dict  # an AI int metric with hostile guidelines and prompt template
    exact: dict  # a heuristic boolean metric

    def path(self, tail: str = "") -> str:
        return f"/projects/{self.id}/metrics{tail}"


@pytest.fixture
def project(client) -> Project:
    created = client.post("/projects", {"name": "Metrics"})
    polite = client.post(
        f"/projects/{created['id']}/metrics",
        {
            "name": f"Polite {HOSTILE}",
            "evalType": "ai",
            "outputType": "int",
            "guidelines": GUIDELINES,
            "promptTemplate": TEMPLATE,
        },
    )
    exact = client.post(
        f"/projects/{created['id']}/metrics",
        {"name": "Exact", "evalType": "heuristic", "outputType": "boolean", "heuristic": EXACT},
    )
    return Project(created["id"], polite, exact)


def new_run(client, project: Project, *metrics: dict) -> dict:
    return client.post(f"/projects/{project.id}/runs", {"metricIds": [m["id"] for m in metrics]})


def get(browser, server, path: str):
    response = browser.get(f"{server.url}{path}")
    assert response.status_code == 200, response.text
    return response


def post_form(browser, server, path: str, form_page: str, **fields):
    """Posts a form of ``form_page`` with its CSRF token, as a person would."""
    data = {"csrf_token": csrf_token(form_page), **fields}
    return browser.post(f"{server.url}{path}", data=data, allow_redirects=False)


def edit_fields(metric: dict, **changes) -> dict:
    """The edit form's fields for an API metric, with ``changes``: what a browser would send."""
    fields = {
        "name": metric["name"],
        "description": metric.get("description") or "",
        "evalType": metric["evalType"],
        "outputType": metric["outputType"],
        "guidelines": metric.get("guidelines") or "",
        "promptTemplate": metric.get("promptTemplate") or "",
        "evalModelName": metric.get("evalModelName") or "",
        "temperature": str(metric.get("temperature", "")),
        "passingThreshold": str(metric.get("passingThreshold", "")),
        "heuristic": "",
        **changes,
    }
    if metric.get("judgeCache", True):
        fields["judgeCache"] = "on"
    return fields


def versions_of(page: str) -> list[str]:
    """The version headings (v3 next, v2 current, ...) in the order shown, newest first."""
    heads = re.findall(
        r'<div class="version-head">\s*<strong>(v\d+)</strong>\s*(?:<span class="badge \w+">(\w+))?', page
    )
    return [f"{number} {badge}".strip() for number, badge in heads]


def test_the_list_shows_each_metric_and_the_groups(client, browser, server, project):
    client.post(
        f"/projects/{project.id}/metric-groups", {"name": f"Core {HOSTILE}", "metricIds": [project.polite["id"]]}
    )
    new_run(client, project, project.polite)
    page = get(browser, server, project.path()).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in page
    text = text_of(page)
    assert f"Polite {HOSTILE} #{project.polite['id']} ai int ≥ 4 gpt-4o v1" in text
    assert f"Exact #{project.exact['id']} heuristic boolean pass / fail — v1 from the next run never" in text
    assert re.search(r"v1 \d{4}-\d\d-\d\d \d\d:\d\d UTC", text), "the used metric shows when it was last used"
    assert f"Core {HOSTILE} Polite {HOSTILE} Edit" in text
    assert "New metric" in text and "New group" in text


def test_the_metric_page_shows_settings_versions_with_changes_and_runs(client, browser, server, project):
    first = new_run(client, project, project.polite, project.exact)
    client.patch(
        f"/metrics/{project.polite['id']}",
        {
            "evalType": "ai",
            "outputType": "int",
            "guidelines": GUIDELINES.replace("short", "brief"),
            "promptTemplate": TEMPLATE,
            "passingThreshold": 3,
        },
    )
    second = new_run(client, project, project.polite)
    new_run(client, project, project.exact)  # a run without it is not listed
    page = get(browser, server, project.path(f"/{project.polite['id']}")).text
    assert "<script>" not in page
    text = text_of(page)
    assert "Passing threshold a score of 3 or more passes Judge model gpt-4o Temperature 0" in text
    assert (
        f"Guidelines {GUIDELINES.replace('short', 'brief')}".split()
        == text_of(page[page.index("<h3>Guidelines") :].split("<h3>Prompt")[0]).split()
    )
    assert '<pre class="code"><code>Judge this: {{ outputs }} &lt;script&gt;' in page

    assert versions_of(page) == ["v2 current", "v1"]
    newest = text_of(page.split('<li class="version">')[1])
    assert "Guidelines Is the answer polite? It must not" in newest
    assert "- It must be short. + It must be brief." in newest
    assert "Passing threshold 4 → 3" in newest
    assert "The first version." in text_of(page.split('<li class="version">')[2])

    runs = re.findall(r"/runs/(\d+)\">Run #\d+</a>.*?<td>v(\d)</td>", page, flags=re.S)
    assert runs == [(second["id"], "2"), (first["id"], "1")]


def test_an_edit_is_the_api_s_edit_and_becomes_a_version_at_the_next_run(client, browser, server, project):
    twin = client.post(f"/projects/{project.id}/metrics", {**project.polite, "id": None})
    path = project.path(f"/{project.polite['id']}")
    new_run(client, project, project.polite)
    form_page = get(browser, server, path).text
    fields = edit_fields(project.polite, guidelines="Be kind.\r\nBe brief.", temperature="0.5", passingThreshold="5")
    del fields["judgeCache"]  # the box unticked
    saved = post_form(browser, server, path, form_page, **fields)
    assert saved.status_code == 302 and saved.headers["Location"] == path
    client.patch(
        f"/metrics/{twin['id']}",
        {
            "evalType": "ai",
            "outputType": "int",
            "guidelines": "Be kind.\nBe brief.",
            "promptTemplate": TEMPLATE,
            "temperature": 0.5,
            "passingThreshold": 5,
            "judgeCache": False,
            "name": project.polite["name"],
        },
    )
    edited = client.get(f"/metrics/{project.polite['id']}")
    assert {**edited, "id": None} == {**client.get(f"/metrics/{twin['id']}"), "id": None}

    page = browser.get(f"{server.url}{path}").text
    assert "These settings become version 2 when the next run or re-score uses this metric" in text_of(page)
    assert versions_of(page) == ["v2 next", "v1"]
    run = new_run(client, project, project.polite)
    page = get(browser, server, path).text
    assert versions_of(page) == ["v2 current", "v1"]
    newest = text_of(page.split('<li class="version">')[1])
    assert "Temperature 0 → 0.5" in newest and "Judge cache on → off" in newest
    assert f'/runs/{run["id"]}">Run #{run["id"]}' in page

    # Saving the same settings again makes no version: a snapshot is its content.
    post_form(browser, server, path, page, **fields)
    assert versions_of(get(browser, server, path).text) == ["v2 current", "v1"]


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"passingThreshold": "9"}, "Passing threshold must be between 1 and 5 for an int metric.", "passingThreshold"),
        ({"temperature": "hot"}, "Temperature input should be a valid number.", "temperature"),
        ({"temperature": "3"}, "Temperature must be between 0 and 2.", "temperature"),
        ({"evalType": "magic"}, "Type input should be 'ai', 'heuristic' or 'human'.", "evalType"),
        ({"evalType": "heuristic", "heuristic": "{oops"}, "Heuristic config is not valid JSON", "heuristic"),
        (
            {"evalType": "heuristic", "heuristic": '{"type": "nope"}'},
            "Heuristic config: `type` must be one of",
            "heuristic",
        ),
    ],
)
def test_refused_edits_name_the_field_and_keep_what_was_typed(
    client, browser, server, project, changes, message, field
):
    path = project.path(f"/{project.polite['id']}")
    typed = "Guidelines typed <b>before</b> the mistake"
    refused = post_form(
        browser,
        server,
        path,
        get(browser, server, path).text,
        **edit_fields(project.polite, guidelines=typed, **changes),
    )
    assert refused.status_code == 400
    assert message in text_of(refused.text) and "Nothing was saved" in refused.text
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', refused.text)
    assert "Guidelines typed &lt;b&gt;before&lt;/b&gt; the mistake</textarea>" in refused.text
    assert '<details class="panel metric-edit" id="edit" open>' in refused.text
    assert client.get(f"/metrics/{project.polite['id']}") == project.polite


def test_the_new_metric_form_creates_as_the_api_does(client, browser, server, project):
    form_page = get(browser, server, project.path()).text
    fields = {
        "name": "Grounded",
        "evalType": "ai",
        "outputType": "float",
        "guidelines": "Cites sources.",
        "judgeCache": "on",
    }
    for name in ("description", "promptTemplate", "evalModelName", "temperature", "passingThreshold", "heuristic"):
        fields.setdefault(name, "")
    refused = post_form(browser, server, project.path(), form_page, **{**fields, "passingThreshold": "2"})
    assert refused.status_code == 400
    assert "Passing threshold must be between 0 and 1 for a float metric." in text_of(refused.text)
    assert 'value="Grounded"' in refused.text and "Cites sources.</textarea>" in refused.text
    assert len(client.get(f"/projects/{project.id}/metrics")["data"]) == 2

    created = post_form(browser, server, project.path(), form_page, **fields)
    assert created.status_code == 302
    metric_id = created.headers["Location"].rsplit("/", 1)[1]
    from_api = client.post(
        f"/projects/{project.id}/metrics",
        {"name": "Grounded", "evalType": "ai", "outputType": "float", "guidelines": "Cites sources."},
    )
    assert {**client.get(f"/metrics/{metric_id}"), "id": None} == {**from_api, "id": None}
    page = get(browser, server, created.headers["Location"]).text
    assert versions_of(page) == ["v1 next"] and "a score of 0.9 or more passes" in text_of(page)


def test_metric_groups_are_created_edited_and_deleted(client, browser, server, project):
    other = client.post("/projects", {"name": "Other"})
    foreign = client.post(
        f"/projects/{other['id']}/metrics", {"name": "Theirs", "evalType": "human", "outputType": "int"}
    )
    groups = f"/projects/{project.id}/metric-groups"
    page = get(browser, server, project.path()).text

    created = post_form(
        browser,
        server,
        groups,
        page,
        name=f"Core {HOSTILE}",
        description="d",
        metricIds=[project.polite["id"], project.exact["id"]],
    )
    assert created.status_code == 302 and created.headers["Location"].endswith("/metrics#groups")
    [group] = client.get(groups)["data"]
    assert group["name"] == f"Core {HOSTILE}" and group["metricIds"] == [project.polite["id"], project.exact["id"]]

    path = f"{groups}/{group['id']}"
    page = get(browser, server, project.path()).text
    assert "<script>" not in page
    renamed = post_form(browser, server, path, page, name="Essentials", description="", metricIds=[project.exact["id"]])
    assert renamed.status_code == 302
    assert client.get(f"/metric-groups/{group['id']}")["metricIds"] == [project.exact["id"]]
    assert client.get(f"/metric-groups/{group['id']}")["name"] == "Essentials"

    refused = post_form(browser, server, path, page, name="Kept typing", metricIds=[foreign["id"]])
    assert refused.status_code == 400
    assert f"metric {foreign['id']} not found in project {project.id}." in text_of(refused.text)
    assert 'value="Kept typing"' in refused.text and re.search(r'class="members" aria-invalid="true"', refused.text)
    assert client.get(f"/metric-groups/{group['id']}")["name"] == "Essentials"

    deleted = post_form(browser, server, f"{path}/delete", page)
    assert deleted.status_code == 302 and client.get(groups)["data"] == []
    assert len(client.get(f"/projects/{project.id}/metrics")["data"]) == 2, "its metrics stay"


def test_forms_need_the_csrf_token_and_pages_belong_to_their_project(client, browser, server, project):
    path = project.path(f"/{project.polite['id']}")
    forged = browser.post(f"{server.url}{path}", data=edit_fields(project.polite, name="Forged"))
    assert forged.status_code == 403 and "nothing was changed" in forged.text
    assert client.get(f"/metrics/{project.polite['id']}")["name"] == project.polite["name"]
    other = client.post("/projects", {"name": "Other"})
    assert browser.get(f"{server.url}/projects/{other['id']}/metrics/{project.polite['id']}").status_code == 404
    assert browser.get(f"{server.url}{project.path('/nope')}").status_code == 404


def test_the_runs_list_is_capped_newest_first(client, browser, server, project, monkeypatch):
    monkeypatch.setattr(metrics_page, "RUNS_SHOWN", 2)
    runs = [new_run(client, project, project.exact) for _ in range(3)]
    page = get(browser, server, project.path(f"/{project.exact['id']}")).text
    assert re.findall(r'">Run #(\d+)</a>', page) == [runs[2]["id"], runs[1]["id"]]
    assert "The 2 latest runs are shown; earlier ones used it too." in text_of(page)
