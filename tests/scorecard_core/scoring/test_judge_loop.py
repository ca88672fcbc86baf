"""The judge's calls from many threads run on one event loop per process: concurrency, retries,
a loop stopped mid-call, a fork after the loop started, and the async entry point, against the
fake OpenAI server on loopback."""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from scorecard_core.scoring import judge as judge_module
from scorecard_core.scoring import loop_thread
from scorecard_core.scoring.judge import LOOP_STOPPED
from tests.scorecard_core.scoring.test_judge import API_KEY, ai_metric, judge, last_prompt
from tests.webhook.test_results import eventually


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "scorecard-loop"]


def test_256_threads_share_one_loop_and_their_calls_overlap(fake_openai):
    metric = ai_metric("float")
    judge(fake_openai, metric, "warm-up")
    fake_openai.reset()
    fake_openai.delay = 1.0
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=256) as pool:
        results = list(pool.map(lambda i: judge(fake_openai, metric, f"SCORE: {i / 1000}"), range(256)))
    elapsed = time.perf_counter() - started
    assert [r.score["floatScore"] for r in results] == [i / 1000 for i in range(256)]
    assert len(loop_threads()) == 1
    # All 256 at once take ~1.1 s; a loaded 2-core machine still gets most of them in flight together.
    assert fake_openai.max_in_flight >= 128
    assert elapsed < 6


def test_a_rate_limit_without_retry_after_is_retried_with_backoff(fake_openai):
    fake_openai.fail_next(status=429)
    started = time.perf_counter()
    result = judge(fake_openai, ai_metric(), "VERDICT: pass")
    assert result.score["binaryScore"] is True
    assert len(fake_openai.requests) == 2
    assert time.perf_counter() - started >= 0.375  # 0.5 s less at most 25% jitter


def test_a_retry_after_beyond_two_minutes_is_not_waited_for(fake_openai):
    fake_openai.fail_next(status=429, retry_after=600)
    result = judge(fake_openai, ai_metric(), "VERDICT: pass")
    assert "answered HTTP 429 (tried 5 times) for model 'gpt-4o-mini': scripted failure." in result.error
    assert len(fake_openai.requests) == 1


def test_stopping_the_loop_answers_waiting_calls_and_the_next_call_starts_a_new_loop(fake_openai):
    judge(fake_openai, ai_metric(), "warm-up")
    fake_openai.delay = 5.0
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(judge, fake_openai, ai_metric(), "VERDICT: pass")
        eventually(lambda: len(fake_openai.requests) == 2, "the call reached the judge")
        started = time.perf_counter()
        judge_module.stop_loop()
        assert waiting.result(timeout=5).error == LOOP_STOPPED
    assert time.perf_counter() - started < 2
    assert loop_threads() == []

    fake_openai.delay = 0.0
    assert judge(fake_openai, ai_metric(), "VERDICT: pass").score["binaryScore"] is True
    assert len(loop_threads()) == 1


def _judge_in_child(url: str, results: multiprocessing.SimpleQueue) -> None:
    result = judge_module.judge_record(
        ai_metric(), inputs={}, outputs={"answer": "VERDICT: fail"}, expected={}, base_url=url, api_key=API_KEY
    )
    results.put((result.score, result.error, loop_thread.loop() is not PARENT_LOOP[0]))
    gc.collect()  # whatever the child drops of its parent's loop must leave the parent's sockets be


PARENT_LOOP: list[asyncio.AbstractEventLoop] = []


def test_a_forked_child_judges_on_a_loop_of_its_own(fake_openai):
    # As a Celery or gunicorn worker forked after the parent judged: the parent's loop thread and
    # connections are not the child's.
    assert judge(fake_openai, ai_metric(), "VERDICT: pass").score["binaryScore"] is True
    PARENT_LOOP[:] = [loop_thread.loop()]
    fork = multiprocessing.get_context("fork")
    results = fork.SimpleQueue()
    child = fork.Process(target=_judge_in_child, args=(fake_openai.url, results))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    score, error, own_loop = results.get()
    assert error is None and score["binaryScore"] is False
    assert own_loop
    assert len(fake_openai.requests) == 2
    # The parent's loop and its pooled connection are untouched (the loop's epoll set is shared
    # with the child: had the child closed its copies of the parent's sockets, this would hang).
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        again = pool.submit(judge, fake_openai, ai_metric(), "VERDICT: pass").result(timeout=10)
    assert again.score["binaryScore"] is True
    assert time.perf_counter() - started < 5


def test_a_call_from_the_loop_thread_itself_is_refused_not_deadlocked():
    async def nested() -> str:
        try:
            loop_thread.run(asyncio.sleep(0))
        except RuntimeError as exc:
            return str(exc)
        return "ran"

    assert "called from the loop's own thread" in loop_thread.run(nested())


def test_one_loop_thread_however_many_threads_ask_at_first_use():
    judge_module.stop_loop()
    barrier = threading.Barrier(16)

    def first_use(_: int) -> asyncio.AbstractEventLoop:
        barrier.wait()
        return loop_thread.loop()

    with ThreadPoolExecutor(max_workers=16) as pool:
        loops = set(pool.map(first_use, range(16)))
    assert len(loops) == 1 and len(loop_threads()) == 1


def test_a_base_url_that_is_not_http_is_an_error_naming_it_and_the_setting():
    result = judge_module.judge_record(
        ai_metric(), inputs={}, outputs={}, expected={}, base_url="localhost:11434/v1", api_key=API_KEY
    )
    assert result.score is None
    assert result.error == (
        "the judge's base URL 'localhost:11434/v1' must be an http:// or https:// URL; "
        "check SCORECARD_OPENAI_BASE_URL / OPENAI_BASE_URL"
    )


def test_a_record_with_a_lone_surrogate_is_judged(fake_openai):
    # JSON can spell one (\ud800) and json.loads keeps it; UTF-8 cannot encode it.
    result = judge(fake_openai, ai_metric(), "broken \ud800 text, VERDICT: pass")
    assert result.score["binaryScore"] is True
    assert "broken \ud800 text" in last_prompt(fake_openai)
