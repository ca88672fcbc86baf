"""How soon the Playground shows its cards, in a real browser: Chromium (Debian's, at
/usr/bin/chromium, driven by Playwright) signed in to the real `scorecard serve` process, clicks
Run on 10 testcases whose prompt the fake OpenAI server answers in 500 ms each, 10 at once.

Timed in the page, on the browser's clock, from the click on Run to the moment the DOM shows the
first card's output (target < 0.7 s) and every card's output (target < 1.2 s): a mutation observer
notes when, so Playwright's own polling adds nothing. Each figure is the median of the rounds; the
cards arrive by htmx polling, as a person sees them.

    python -m bench.playground [--rounds 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from bench._server import BenchServer, bench_server
from tests.fakes.openai_server import FakeOpenAI

CHROMIUM = "/usr/bin/chromium"
CASES = 10
MODEL_DELAY = 0.5
TARGET_FIRST = 0.7
TARGET_ALL = 1.2
WAIT_MS = 30_000
FIRST_OUTPUT = ".pg-card .pg-output"
ALL_OUTPUTS = "#pg-results:not(:has(.pg-waiting)) .pg-output"


def seed(server: BenchServer) -> str:
    """A project with a testset of `CASES` questions; the path of its playground."""
    client = server.client()
    project = client.post("/projects", {"name": "bench playground"})
    testset = client.post(
        f"/projects/{project['id']}/testsets",
        {
            "name": "questions",
            "jsonSchema": {"type": "object", "properties": {"question": {"type": "string"}}},
            "fieldMapping": {"inputs": ["question"], "expected": []},
        },
    )
    items = [{"jsonData": {"question": f"question {i}"}} for i in range(CASES)]
    client.post(f"/testsets/{testset['id']}/testcases", {"items": items})
    return f"/projects/{project['id']}/playground"


def sign_in(page: Page, server: BenchServer) -> None:
    origin = server.process.url
    page.goto(f"{origin}/sign-in")
    page.fill("#api_key", server.api_key)
    page.click("button:text('Sign in')")
    page.wait_for_url(f"{origin}/")


# Run by Playwright over the DevTools protocol (not subject to the page's CSP, which forbids eval).
WATCH = """([first, all]) => {
  const times = window.pgTimes = {};
  document.addEventListener("click", (event) => { times.click ??= event.timeStamp; }, true);
  new MutationObserver(() => {
    const now = performance.now();
    if (times.click === undefined) return;
    if (times.first === undefined && document.querySelector(first)) times.first = now;
    if (times.all === undefined && document.querySelector(all)) times.all = now;
  }).observe(document.body, {childList: true, subtree: true});
}"""


def one_round(page: Page, url: str) -> tuple[float, float]:
    """Seconds from clicking Run to the first card's output, and to every card's."""
    page.goto(url)
    for box in page.locator("input[name=testcase_id]").all():
        box.check()
    page.evaluate(WATCH, [FIRST_OUTPUT, ALL_OUTPUTS])
    page.click("button:text-is('Run')")
    page.wait_for_selector(ALL_OUTPUTS, timeout=WAIT_MS)
    shown = page.locator(FIRST_OUTPUT).count()
    if shown != CASES:
        raise RuntimeError(f"{shown} cards showed an output, not {CASES}")
    times = page.evaluate("() => window.pgTimes")
    return (times["first"] - times["click"]) / 1000, (times["all"] - times["click"]) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="a smoke run: two rounds")
    args = parser.parse_args()
    rounds = 2 if args.quick else args.rounds

    arguments = ["--no-sandbox"] if os.geteuid() == 0 else []  # Chromium's sandbox cannot start as root
    with (
        tempfile.TemporaryDirectory(prefix="scorecard-bench-data-") as data_dir,
        FakeOpenAI(delay=MODEL_DELAY) as model,
    ):
        env = {"OPENAI_BASE_URL": model.url, "OPENAI_API_KEY": "bench", "SCORECARD_DATA_DIR": str(Path(data_dir))}
        with bench_server(env=env) as server, sync_playwright() as playwright:
            url = server.process.url + seed(server)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=arguments)
            page = browser.new_page()
            sign_in(page, server)
            one_round(page, url)  # warm-up: the first trial loads the model client and the judge's modules
            timings = [one_round(page, url) for _ in range(rounds)]
            browser.close()

    first = statistics.median(t[0] for t in timings)
    every = statistics.median(t[1] for t in timings)
    print(
        f"playground: {CASES} cards x {MODEL_DELAY * 1000:.0f} ms: first card {first:.2f} s "
        f"(target < {TARGET_FIRST} s) {'PASS' if first < TARGET_FIRST else 'MISS'}, "
        f"all cards {every:.2f} s (target < {TARGET_ALL} s) {'PASS' if every < TARGET_ALL else 'MISS'}"
    )


if __name__ == "__main__":
    main()
