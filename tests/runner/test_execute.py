"""Each system call is timed and what it spent is kept: the records ``execute`` hands on carry
the call's duration and ``{"model", "usage"}``, our server stores them, and the uploader keeps
them per record ID for hosted Scorecard, which stores neither."""

from __future__ import annotations

import asyncio
import io

import pytest

from runner.execute import Work, execute, usage_metadata
from runner.progress import Progress
from runner.upload import RecordItem, Uploader
from tests.runner.test_systems import python_system
from tests.server.test_scoring_lifecycle import make_project

METERED = "agents.metered:run_system"


class Collected:
    """A record sink that keeps what it is handed."""

    def __init__(self) -> None:
        self.items: list[RecordItem] = []

    async def add(self, item: RecordItem) -> None:
        self.items.append(item)

    async def close(self) -> None:
        pass


def execute_all(work: list[Work], sink, spec: str = METERED) -> None:
    async def scenario() -> None:
        system = python_system(spec)
        await system.start()
        try:
            await execute(system, work, None, 4, 5.0, sink, Progress(len(work), "test", io.StringIO()), lambda *_: None)
        finally:
            await system.close()

    asyncio.run(scenario())


def test_each_call_is_timed_and_the_usage_in_its_outputs_is_kept():
    work = [Work({"id": str(n), "inputs": {"question": "two words", "seconds": n / 10}}, 0) for n in range(1, 4)]
    sink = Collected()
    execute_all(work, sink)
    by_testcase = {item.testcase_id: item for item in sink.items}
    for n in range(1, 4):
        item = by_testcase[str(n)]
        assert item.duration_ms is not None and n * 100 <= item.duration_ms < n * 100 + 2000
        assert item.metadata == {
            "model": "gpt-4o-mini-2024-07-18",
            "usage": {"prompt_tokens": 20, "completion_tokens": 2, "total_tokens": 22},
        }
        assert item.outputs["answer"] == "TWO WORDS"  # the outputs stay as the system gave them


def test_a_failed_call_is_timed_too_and_reports_no_usage():
    sink = Collected()
    execute_all([Work({"id": "1", "inputs": {"seconds": 0.2}}, 0)], sink)  # no question: the system raises
    (item,) = sink.items
    assert item.error and item.metadata is None and item.duration_ms is not None and item.duration_ms >= 200


@pytest.mark.parametrize(
    ("outputs", "metadata"),
    [
        ({"answer": "x"}, None),
        (None, None),
        (
            {"usage": {"prompt_tokens": 5, "completion_tokens": 1}},
            {"model": None, "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}},
        ),
        (
            {"usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 9}, "model": 3},
            {"model": None, "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 9}},
        ),
        ({"usage": {"input_tokens": 5, "output_tokens": 1}}, None),  # not OpenAI's shape
        ({"usage": {"prompt_tokens": "5", "completion_tokens": 1}}, None),
        ({"usage": {"prompt_tokens": True, "completion_tokens": 1}}, None),
        ({"usage": {"prompt_tokens": -1, "completion_tokens": 1}}, None),
        ({"usage": "lots"}, None),
    ],
)
def test_usage_is_taken_only_from_an_openai_shaped_usage_object(outputs, metadata):
    assert usage_metadata(outputs) == metadata


def test_only_our_server_is_sent_the_duration_and_metadata():
    metadata = {"model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
    item = RecordItem("7", 1, {"q": "x"}, {}, {"a": "y"}, metadata=metadata, duration_ms=12.5)
    assert item.batch_item()["durationMs"] == 12.5 and item.batch_item()["metadata"] == metadata
    assert set(item.hosted_body()) == {"testcaseId", "inputs", "expected", "outputs"}
    bare = RecordItem("7", 0, {}, {}, {})
    assert "durationMs" not in bare.batch_item() and "metadata" not in bare.batch_item()


@pytest.mark.parametrize("batches", [True, False], ids=["our server", "as hosted Scorecard"])
def test_the_uploader_keeps_each_records_call_facts_by_its_id_only_for_hosted_scorecard(client, batches):
    project, testset, testcases = make_project(client, cases=3)
    run = client.post(f"/projects/{project['id']}/runs", {"testsetId": testset["id"], "metricIds": []})
    uploader = Uploader(client, run["id"], batches=batches)
    work = [Work({**tc, "inputs": {"question": f"word {tc['id']}"}}, 0) for tc in testcases]
    execute_all(work, uploader)

    records = list(client.paginate(f"/runs/{run['id']}/records"))
    if batches:  # our server stores them: the uploader keeps nothing per record
        assert uploader.call_facts == {}
        for record in records:
            assert record["metadata"]["usage"]["prompt_tokens"] == 20 and record["durationMs"] > 0
        return
    assert sorted(uploader.call_facts) == sorted(r["id"] for r in records)
    for record in records:
        facts = uploader.call_facts[record["id"]]
        assert facts["metadata"]["usage"]["prompt_tokens"] == 20 and facts["durationMs"] > 0
        assert "durationMs" not in record and "metadata" not in record


def test_when_the_work_stream_fails_the_calls_under_way_finish_and_are_handed_on():
    """A page fetch failing mid-run: the call already made is paid for, so its record is kept
    (a resumed run skips it); the testcase queued behind it is not called."""

    async def work():
        yield Work({"id": "1", "inputs": {"question": "slow call", "seconds": 0.5}}, 0)
        yield Work({"id": "2", "inputs": {"question": "queued", "seconds": 0}}, 0)
        await asyncio.sleep(0.1)  # the first call is under way
        raise ConnectionError("the next page did not come")

    async def scenario(sink: Collected) -> None:
        system = python_system(METERED)
        await system.start()
        try:
            await execute(system, work(), None, 1, 5.0, sink, Progress(None, "test", io.StringIO()), lambda *_: None)
        finally:
            await system.close()

    sink = Collected()
    with pytest.raises(ConnectionError):
        asyncio.run(scenario(sink))
    assert [(item.testcase_id, item.error, item.outputs["answer"]) for item in sink.items] == [("1", None, "SLOW CALL")]
