"""The monitors pages over real HTTP: the list (and its help when empty), the create and edit forms
going through the settings functions the API uses (a described metric becomes an AI metric), bad
input refused naming the field with nothing stored, Run now over stored chat spans making a cycle
row with its run's pass rates, a cycle already running, pause and resume, delete, and hostile text
escaped everywhere it lands."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import update

from scorecard_core.db import session_scope
from scorecard_core.models import Monitor, utcnow
from tests.conftest import wait_for_run
from tests.support.chat_spans import chat_row, store_rows

from .test_ui import HOSTILE, assert_escaped, browser, data_dir, text_of  # noqa: F401  (fixtures)
from .test_ui_metrics import get, post_form

POLITE = "Is the answer polite?"


@dataclass
class Project:
    id: str
    exact: dict  # a heuristic boolean metric

    def path(self, tail: str = "") -> str:
        return f"/projects/{self.id}/monitors{tail}"


@pytest.fixture
def project(client) -> Project:
    created = client.post("/projects", {"name": "Monitored"})
    exact = client.post(
        f"/projects/{created['id']}/metrics",
        {
            "name": "Exact",
            "evalType": "heuristic",
            "outputType": "boolean",
            "heuristic": {"type": "exact_match", "outputField": "response", "expectedField": "response"},
        },
    )
    return Project(created["id"], exact)


def fields(**changes) -> dict:
    """The form as a browser sends it: a described AI metric, every 5 minutes, all traces, active."""
    return {
        "description": "chat-app answers",
        "new_metrics": POLITE,
        "frequency_minutes": "5",
        "sample_rate": "100",
        "service_name": "chat-app",
        "span_name": "",
        "search": "",
        "active": "on",
        **changes,
    }


def create(browser, server, project: Project, **changes) -> str:
    """A monitor made through the form; its ID."""
    form = get(browser, server, project.path("/new")).text
    created = post_form(browser, server, project.path("/new"), form, **fields(**changes))
    assert created.status_code == 302, text_of(created.text)
    return created.headers["Location"].rsplit("/", 1)[1]


def monitors_of(client, project: Project) -> list[dict]:
    return client.get(f"/projects/{project.id}/monitors")["data"]


def metric_count(client, project: Project) -> int:
    return len(client.get(f"/projects/{project.id}/metrics")["data"])


def test_create_with_a_described_metric_then_edit(client, browser, server, project):
    empty = get(browser, server, project.path()).text
    assert "No monitors yet" in empty and "wrapAISDK" in empty
    assert f'<a href="{project.path()}" aria-current="page">Monitors</a>' in empty

    monitor_id = create(browser, server, project, metric=project.exact["id"], span_name=r"^chat\b", search="refund")
    [monitor] = monitors_of(client, project)
    assert monitor["id"] == monitor_id
    assert (monitor["frequencyMinutes"], monitor["sampleRate"], monitor["active"]) == (5, 100, True)
    assert monitor["filter"] == {"serviceName": "chat-app", "spanName": r"^chat\b", "search": "refund"}
    exact, polite = monitor["metrics"]
    assert exact == project.exact["id"]
    made = client.get(f"/metrics/{polite}")
    assert (made["evalType"], made["outputType"], made["guidelines"]) == ("ai", "boolean", POLITE)

    listed = text_of(get(browser, server, project.path()).text)
    for shown in ("chat-app answers", "Active", "Exact", POLITE, "every 5 minutes, 100% of traces sampled", "refund"):
        assert shown in listed
    assert "none yet" in listed

    path = project.path(f"/{monitor_id}/edit")
    form = get(browser, server, path).text
    assert 'value="chat-app answers"' in form and re.search(rf'value="{polite}" checked', form)
    assert re.search(r'<option value="5" selected>every 5 minutes</option>', form)
    saved = post_form(
        browser, server, path, form, **fields(metric=polite, new_metrics="", frequency_minutes="360", sample_rate="25")
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith(project.path(f"/{monitor_id}"))
    changed = client.get(f"/monitors/{monitor_id}")
    assert (changed["metrics"], changed["frequencyMinutes"], changed["sampleRate"]) == ([polite], 360, 25)
    assert changed["filter"] == {"serviceName": "chat-app", "spanName": None, "search": None}
    page = text_of(get(browser, server, saved.headers["Location"]).text)
    assert "every 6 hours" in page and "25% of traces" in page and "No cycles yet" in page
    assert metric_count(client, project) == 2, "the described metric is made once"


@pytest.mark.parametrize(
    ("changes", "message", "field"),
    [
        ({"description": "  "}, "Description is empty", "description"),
        ({"description": "taken"}, "Description is already monitor", "description"),
        ({"new_metrics": ""}, "Metrics must name at least one metric", "metric"),
        ({"metric": "not-an-id"}, "Metrics: “not-an-id” is not a metric ID", "metric"),
        ({"new_metrics": "Polite?\n999999"}, "New AI metrics: “999999” names metric 999999", "new_metrics"),
        ({"frequency_minutes": "0"}, "Frequency must be from 1 to 1440", "frequency_minutes"),
        ({"frequency_minutes": "1441"}, "Frequency must be from 1 to 1440", "frequency_minutes"),
        ({"frequency_minutes": "hourly"}, "Frequency must be a whole number of minutes", "frequency_minutes"),
        ({"sample_rate": "101"}, "Sample rate must be a percentage from 1 to 100", "sample_rate"),
        ({"sample_rate": "0"}, "Sample rate must be a percentage from 1 to 100", "sample_rate"),
        ({"sample_rate": "ten"}, "Sample rate must be a whole percentage", "sample_rate"),
        ({"span_name": "chat("}, "Span name is not a valid regular expression", "span_name"),
    ],
)
def test_bad_input_names_the_field_keeps_what_was_typed_and_stores_nothing(
    client, browser, server, project, changes, message, field
):
    create(browser, server, project, description="taken")
    mine = client.get(f"/monitors/{create(browser, server, project, description='mine')}")
    monitors, metrics = monitors_of(client, project), metric_count(client, project)
    form = get(browser, server, project.path("/new")).text
    typed = fields(search=f"typed {HOSTILE}", **changes)
    refused = post_form(browser, server, project.path("/new"), form, **typed)
    assert refused.status_code == 400
    assert message in text_of(refused.text) and "Nothing was saved" in refused.text
    marked = 'class="members" aria-invalid="true"' if field == "metric" else rf'name="{field}"[^>]*aria-invalid="true"'
    assert re.search(marked, refused.text)
    assert "typed &lt;script&gt;alert(1)&lt;/script&gt;{{7*7}}" in refused.text and "<script>alert" not in refused.text
    assert (monitors_of(client, project), metric_count(client, project)) == (monitors, metrics)

    # The same input refused by the edit form leaves the monitor as it was.
    path = project.path(f"/{mine['id']}/edit")
    refused = post_form(browser, server, path, get(browser, server, path).text, **typed)
    assert refused.status_code == 400 and message in text_of(refused.text)
    assert (client.get(f"/monitors/{mine['id']}"), metric_count(client, project)) == (mine, metrics)


def test_the_traces_page_links_a_new_monitor_with_its_filters(browser, server, project):
    traces = get(browser, server, f"/projects/{project.id}/traces?service=chat-app&span_name=%5Echat&q=refund").text
    link = re.search(r'href="([^"]+)">Monitor these traces', traces)
    assert link
    form = get(browser, server, link.group(1).replace("&amp;", "&")).text
    for name, value in (("service_name", "chat-app"), ("span_name", "^chat"), ("search", "refund")):
        assert re.search(rf'name="{name}" value="{re.escape(value)}"', form)
    assert '<input type="checkbox" name="active" value="on" checked>' in form


def test_run_now_makes_a_cycle_row_with_its_runs_pass_rate(client, browser, server, project):
    monitor_id = create(browser, server, project)
    now = utcnow()
    store_rows(
        server.app.extensions["scorecard.engine"],
        [chat_row(int(project.id), n, now - timedelta(minutes=1)) for n in range(1, 4)]
        + [chat_row(int(project.id), 9, now, service="other-app")],
    )
    path = project.path(f"/{monitor_id}")
    page = get(browser, server, path).text
    assert 'name="lookback_minutes" value="5"' in page  # one period

    refused = post_form(browser, server, f"{path}/run", page, lookback_minutes="0")
    assert refused.status_code == 400
    assert "Lookback must be from 1 to 10080 minutes" in text_of(refused.text) and "No cycle ran" in refused.text
    assert re.search(r'name="lookback_minutes"[^>]*aria-invalid="true"', refused.text)

    ran = post_form(browser, server, f"{path}/run", page, lookback_minutes="10")
    assert ran.status_code == 302
    [cycle] = client.get(f"/monitors/{monitor_id}/cycles")["data"]
    assert (cycle["trigger"], cycle["candidates"], cycle["sampled"]) == ("manual", 3, 3)
    run = wait_for_run(client, cycle["runId"])
    assert (run["source"], run["status"]) == ("monitor", "completed")
    shown = get(browser, server, path).text
    assert "3 matching spans, 3 sampled; run #{}".format(run["id"]) in text_of(shown)
    assert f'href="/projects/{project.id}/runs/{run["id"]}">Run #{run["id"]}</a>' in shown
    row = text_of(shown.split("<tbody>")[1].split("</tr>")[0])
    assert re.search(
        r"· manual 3 of 3 sampled received [-\d]+ [:\d]+ to (?:[-\d]+ )?[:\d]+ UTC Run #\d+ 🟢 Completed", row
    ), row
    assert re.search(rf"{re.escape(POLITE)} \d+\.\d% \(\d+\.\d-\d+\.\d%\)", row), row
    assert "data-follow" not in shown  # its run is scored: nothing left to follow
    run_page = get(browser, server, f"/projects/{project.id}/runs/{run['id']}").text
    assert f'<a href="{path}">' in run_page  # the run links back to its monitor
    listed = text_of(get(browser, server, project.path()).text)
    assert re.search(rf"Run #{run['id']} 🟢 Completed \d+\.\d% \(\d+\.\d-\d+\.\d%\)", listed)

    again = post_form(browser, server, f"{path}/run", shown, lookback_minutes="10")
    assert "nothing sampled" in text_of(get(browser, server, again.headers["Location"]).text)


def test_a_cycle_already_running_is_said_and_nothing_runs(client, browser, server, project):
    monitor_id = create(browser, server, project)
    with session_scope(server.app.extensions["scorecard.engine"]) as session:
        session.execute(
            update(Monitor)
            .where(Monitor.id == int(monitor_id))
            .values(cycle_token="another process", cycle_lease_until=utcnow() + timedelta(minutes=5))
        )
    path = project.path(f"/{monitor_id}")
    ran = post_form(browser, server, f"{path}/run", get(browser, server, path).text, lookback_minutes="5")
    assert ran.status_code == 302
    assert "A cycle of this monitor is running now: try again in a moment." in get(browser, server, path).text
    assert client.get(f"/monitors/{monitor_id}/cycles")["data"] == []


def test_the_page_follows_a_run_while_the_judge_scores_it(client, browser, server, project, fake_openai):
    monitor_id = create(browser, server, project)
    store_rows(server.app.extensions["scorecard.engine"], [chat_row(int(project.id), 1, utcnow())])
    fake_openai.delay = 2.0  # the judge takes its time: the run is scoring while the page is read
    path = project.path(f"/{monitor_id}")
    ran = post_form(browser, server, f"{path}/run", get(browser, server, path).text, lookback_minutes="5")
    following = get(browser, server, ran.headers["Location"]).text
    assert f'data-follow hx-get="{path}' in following and "🔵 Scoring" in following
    assert f'data-follow hx-get="{project.path()}' in get(browser, server, project.path()).text  # the list too
    [cycle] = client.get(f"/monitors/{monitor_id}/cycles")["data"]
    wait_for_run(client, cycle["runId"])
    assert "data-follow" not in get(browser, server, path).text
    assert "data-follow" not in get(browser, server, project.path()).text


def test_pause_resume_and_delete(client, browser, server, project):
    monitor_id = create(browser, server, project)
    path = project.path(f"/{monitor_id}")
    page = get(browser, server, path).text
    assert post_form(browser, server, f"{path}/active", page, active="off").status_code == 302
    assert client.get(f"/monitors/{monitor_id}")["active"] is False
    paused = text_of(get(browser, server, path).text)
    assert "Paused" in paused and "Resume" in paused and "none while paused" in paused
    assert post_form(browser, server, f"{path}/active", page, active="on").status_code == 302
    assert client.get(f"/monitors/{monitor_id}")["nextCycleAt"] is not None

    deleted = post_form(browser, server, f"{path}/delete", page)
    assert deleted.status_code == 302 and deleted.headers["Location"].endswith(project.path())
    assert monitors_of(client, project) == []
    assert "deleted with its cycles" in get(browser, server, project.path()).text
    assert browser.get(f"{server.url}{path}").status_code == 404


def test_hostile_text_is_escaped_and_pages_belong_to_their_project(client, browser, server, project):
    monitor_id = create(browser, server, project, description=HOSTILE, new_metrics=HOSTILE, search=HOSTILE)
    for page in (project.path(), project.path(f"/{monitor_id}"), project.path(f"/{monitor_id}/edit")):
        assert_escaped(get(browser, server, page).text)
    other = client.post("/projects", {"name": "Other"})
    assert browser.get(f"{server.url}/projects/{other['id']}/monitors/{monitor_id}").status_code == 404
    forged = browser.post(f"{server.url}{project.path(f'/{monitor_id}/delete')}", data={})
    assert forged.status_code == 403 and len(monitors_of(client, project)) == 1
