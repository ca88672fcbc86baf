"""The report rendered by cmarkgfm, GitHub's own Markdown engine, with its tag filter off and raw
HTML allowed: whatever markup an untrusted string could smuggle in shows up in the HTML."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser

import cmarkgfm
import pytest
from cmarkgfm.cmark import Options
from scipy import stats as scipy_stats

from scorecard_core.comparison import compare_summaries
from scorecard_core.gate import evaluate, parse_fail_under, parse_policy
from scorecard_core.markdown import (
    GITHUB_COMMENT_LIMIT,
    ReportContext,
    baseline_label,
    escape_cell,
    escape_text,
    inline_code,
    link,
    render,
)
from scorecard_core.report import MetricSummary, RunSummary, metric_summary, summarize_rows
from scorecard_core.report_wire import FailingCase

ZWSP = "\u200b"
RUN_URL = "https://scorecard.example/projects/1/runs/r2"
ACTIONS_URL = "https://github.com/o/r/actions/runs/99"
MARKER = "<!-- scorecard-eval testset=12 -->"

NASTY = [
    "</details><script>alert(1)</script>",
    "| a | b |",
    "@octocat and @github/security, mail me@example.com",
    "<!-- scorecard-eval testset=12 -->",
    "![x](http://evil) [click](javascript:alert(1)) <http://evil> www.evil.com https://evil.com",
    "``` fenced ``` and `tick` and ``double``",
    "# heading\n- item\n> quote\n1. one\n\n    indented\n---\n===\n+ plus",
    "*bold* _em_ ~~strike~~ $x^2$ [^1] \\ back\\|slash",
    "&lt;entity&gt; &amp; &#64;octocat",
    "fixes #12 and GH-7 and owner/repo#3",
    "<img src=x onerror=alert(1)>",
    "trailing backslash \\",
    "   spaced   ",
]


def to_html(markdown: str) -> str:
    return cmarkgfm.markdown_to_html_with_extensions(
        markdown,
        options=Options.CMARK_OPT_UNSAFE,
        extensions=["table", "autolink", "strikethrough", "tasklist"],
    )


class Parsed(HTMLParser):
    def __init__(self, markdown: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.comments: list[str] = []
        self.cells: list[str] = []
        self.codes: list[str] = []
        self._text: list[str] = []
        self._prose: list[str] = []
        self._cell: list[str] | None = None
        self._code: list[str] | None = None
        self.feed(to_html(markdown))
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "br":
            self._text.append("\n")
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "code":
            self._code = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None
        elif tag == "code" and self._code is not None:
            self.codes.append("".join(self._code))
            self._code = None

    def handle_data(self, data):
        self._text.append(data)
        if self._code is None:
            self._prose.append(data)
        for sink in (self._cell, self._code):
            if sink is not None:
                sink.append(data)

    def handle_comment(self, data):
        self.comments.append(data)

    @property
    def text(self) -> str:
        return "".join(self._text).replace(ZWSP, "").strip()

    @property
    def prose(self) -> str:
        """Text outside code spans, invisible characters kept: what GitHub scans for mentions."""
        return "".join(self._prose)

    @property
    def names(self) -> set[str]:
        return {tag for tag, _ in self.tags}


def lines_of(text: str) -> str:
    return "\n".join(line.strip() for line in re.split(r"\r\n|\r|\n", text) if line.strip())


# -- escaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize("nasty", NASTY)
def test_escape_text_shows_the_text_literally(nasty):
    escaped = escape_text(nasty)
    assert "\n" not in escaped and "\r" not in escaped
    parsed = Parsed(escaped)
    assert parsed.names <= {"p", "br"}
    assert parsed.text == lines_of(nasty)


@pytest.mark.parametrize("nasty", NASTY)
def test_escape_text_defuses_github_autolinks(nasty):
    escaped = escape_text(nasty)
    # GitHub finds mentions, references and URLs in the rendered text, after Markdown unescaping.
    assert not re.search(r"@\w|#\d|GH-\d|://|www\.", Parsed(escaped).prose)
    assert "<!--" not in escaped


def test_escape_text_list_markers_and_headings_inside_list_items():
    for nasty in ("- item", "1. one", "1) one", "# title", "+ plus", "> quote", "=== ", "    code"):
        parsed = Parsed("- " + escape_text(nasty))
        assert [tag for tag, _ in parsed.tags] == ["ul", "li"]
        assert parsed.text == nasty.strip()


def test_escape_text_drops_control_and_bidi_characters():
    assert escape_text("safe\u202egnp.exe\x00\x1b[31m") == "safegnp.exe\\[31m"


def test_escape_text_limit_cuts_before_escaping():
    assert escape_text("<" * 10, limit=4) == "&lt;&lt;&lt;…"


@pytest.mark.parametrize("nasty", NASTY)
def test_escape_cell_keeps_the_table_shape(nasty):
    table = f"| name | other |\n| --- | --- |\n| {escape_cell(nasty, limit=None)} | second |"
    parsed = Parsed(table)
    assert parsed.names <= {"table", "thead", "tbody", "tr", "th", "td"}
    assert [cell.replace(ZWSP, "") for cell in parsed.cells] == ["name", "other", " ".join(nasty.split()), "second"]


def test_escape_cell_shortens_long_text():
    cell = escape_cell("word " * 1000)
    assert len(cell) < 130 and cell.endswith("…")


@pytest.mark.parametrize("nasty", NASTY + ["`", "`starts", "ends`", " ", "", "a\nb\r\nc"])
def test_inline_code_is_one_code_span_with_the_text(nasty):
    code = inline_code(nasty, limit=None)
    assert "\n" not in code and "<!--" not in code
    parsed = Parsed("text " + code)
    assert parsed.names == {"p", "code"}
    expected = re.sub(r"\r\n|\r|\n", "↵", nasty) or " "
    assert [c.replace(ZWSP, "") for c in parsed.codes] == [expected]


def test_inline_code_fence_outgrows_backtick_runs_in_100kb():
    text = ("a``b`````c" * 10_000)[:100_000]
    code = inline_code(text, limit=None)
    assert code.startswith("``````a") and code.endswith("``````")
    assert Parsed(code).codes == [text]


def test_escaping_100kb_strings_is_fast():
    huge = ("</details>|@octocat `x` <!-- m -->\n" * 3000)[:100_000]
    started = time.perf_counter()
    text, cell, code = escape_text(huge), escape_cell(huge, limit=None), inline_code(huge, limit=None)
    assert time.perf_counter() - started < 1.0
    assert Parsed(text).names <= {"p", "br"}
    assert Parsed(f"| a |\n| - |\n| {cell} |").cells[1].replace(ZWSP, "") == " ".join(huge.split())
    assert len(Parsed(code).codes) == 1


def test_link_only_for_web_urls_and_encodes_markdown_breakers():
    assert link("run", "https://e.com/a b(c)<d>") == "[run](https://e.com/a%20b%28c%29%3Cd%3E)"
    assert link("run", "javascript:alert(1)") == "run"
    assert link("run", None) == "run"


# -- the report ----------------------------------------------------------------------------------


def metric(metric_id, name, output_type="boolean", **counts) -> MetricSummary:
    return MetricSummary(
        metric_id, f"v{metric_id}", name, "ai", output_type, 4 if output_type == "int" else None, **counts
    )


def graded_run(run_id: str, status: str, exact: dict, helpful: dict) -> RunSummary:
    """25 testcases t1..t25: Exact answer's outcomes (None: an error), Helpfulness's int scores
    (None: pending)."""
    metrics = [
        metric_summary("12", "v12", {"name": "Exact answer", "output_type": "boolean"}),
        metric_summary("13", "v13", {"name": "Helpfulness", "output_type": "int", "passing_threshold": 4}),
    ]
    rows = [
        (f"t{n}", "v12", "error" if ok is None else "scored", None if ok is None else {"binaryScore": ok})
        for n, ok in exact.items()
    ] + [
        (f"t{n}", "v13", "pending" if value is None else "scored", None if value is None else {"intScore": value})
        for n, value in helpful.items()
    ]
    return summarize_rows(run_id, status, 25, metrics, rows)


def summary(status="completed", *metrics: MetricSummary) -> RunSummary:
    """Exact answer: 18 pass, 5 fail, 2 errors; Helpfulness: 12 fours, 2 fives, 6 threes, 5 pending."""
    if metrics:
        return RunSummary("r2", status, 20, list(metrics))
    exact = {n: True if n <= 18 else False if n <= 23 else None for n in range(1, 26)}
    helpful = {n: 4 if n <= 12 else 5 if n <= 14 else 3 if n <= 20 else None for n in range(1, 26)}
    return graded_run("r2", status, exact, helpful)


def baseline() -> RunSummary:
    """t19 and t20 passed Exact answer here; t1 had a 3 for Helpfulness."""
    exact = {n: n <= 20 for n in range(1, 26)}
    helpful = {n: 3 if n == 1 else 4 if n <= 12 else 5 if n <= 14 else 3 for n in range(1, 21)}
    return graded_run("r1", "completed", exact, helpful)


COMPARISON = compare_summaries(summary(), baseline(), baseline_label="run r1 on main")


def case(n: int, text: str = "x", metric_name: str = "Exact answer") -> FailingCase:
    return FailingCase(
        f"rec{n}", f"tc{n}", metric_name, {"question": text}, {"answer": text}, {"answer": text}, text, 0.0
    )  # shares one string: 10,000 huge cases take no extra memory


def context(**overrides) -> ReportContext:
    values = dict(
        title="Support bot",
        summary=summary(),
        comparison=COMPARISON,
        run_url=RUN_URL,
        actions_url=ACTIONS_URL,
        commit_sha="0123456789abcdef",
        event="pull request #12",
        failing=[case(1)],
        marker=MARKER,
        alpha=0.01,
    )
    values.update(overrides)
    return ReportContext(**values)


def wilson(passed: int, n: int) -> str:
    interval = scipy_stats.binomtest(passed, n).proportion_ci(method="wilson")
    return f"{passed / n * 100:.1f}% ({interval.low * 100:.1f}-{interval.high * 100:.1f}%)"


def test_report_layout():
    gate = evaluate(summary(), parse_fail_under("0.7, Exact answer=90%"), COMPARISON)
    report = render(context(gate=gate))
    lines = report.splitlines()
    assert lines[0] == "### ❌ Support bot: 1 threshold not met"
    assert "- Exact answer: pass rate 78.3% is below the 90.0% threshold." in lines
    assert "**No evidence of a change against run r1 on main.**" in lines
    assert (
        f"[Scorecard run]({RUN_URL}) · [Actions run]({ACTIONS_URL}) · commit `0123456` · "
        "pull request #\u200b12 · compared with run `r1`"
    ) in lines
    assert report.endswith(f"\n\n{MARKER}\n")
    parsed = Parsed(report)
    rows = [parsed.cells[i : i + 6] for i in range(0, len(parsed.cells), 6)]
    # Every interval as scipy computes it: Wilson for pass rates, t for the mean, paired t for changes.
    helpful_mean = scipy_stats.ttest_1samp([4] * 12 + [5] * 2 + [3] * 6, 0).confidence_interval()
    exact_change = scipy_stats.ttest_rel([1] * 18 + [0] * 5, [1] * 20 + [0] * 3).confidence_interval(0.98)
    assert rows == [
        ["Metric", "Pass rate / average (95% CI)", "Threshold", "vs baseline", "Scored", "Errored"],
        ["Overall", "74.4% (57.5-86.2%)", "≥ 70.0% ✅", "+1.1 pp", "43 (+5 pending)", "2"],
        [
            "Exact answer",
            wilson(18, 23),
            "≥ 90.0% ❌",
            f"-8.7 pp ({exact_change.low * 100:+.1f} to {exact_change.high * 100:+.1f}) · no significant change",
            "23",
            "2",
        ],
        [
            "Helpfulness",
            f"avg 3.80 ({helpful_mean.low:.2f} to {helpful_mean.high:.2f}) · {wilson(14, 20)} pass",
            "—",
            "+0.05 (-0.08 to +0.18) · no significant change",
            "20 (+5 pending)",
            "0",
        ],
    ]
    assert (
        "Intervals are 95% for the figures and 98% for the changes (one-sided α = 0.01 each way, "
        "Holm-corrected across 2 metrics).<br>Testcases not compared: 2 only in the baseline (`t24`, `t25`).<br>"
        "Smallest change this run could detect (80% power, α = 0.01): Exact answer 19.0 pp, Helpfulness 0.16."
    ) in lines
    assert "Since the baseline: 2 testcase results regressed, 1 improved." in lines
    assert [href for tag, attrs in parsed.tags if tag == "a" for href in [attrs["href"]]] == [RUN_URL, ACTIONS_URL]
    assert parsed.comments == [" scorecard-eval testset=12 "]


def test_the_sentence_names_the_baseline_by_id_and_branch():
    assert baseline_label({"id": "41", "git": {"ref": "main", "sha": "abc"}}) == "run 41 on main"
    assert baseline_label({"id": "41"}) == "run 41"


def test_a_regression_on_evidence_fails_the_check_and_says_so():
    exact = {n: n <= 10 for n in range(1, 26)}  # 8 testcases that passed in the baseline now fail
    worse = graded_run("r2", "completed", exact, {n: 4 for n in range(1, 21)})
    policy = parse_policy("", "point", True, "2pp", 0.01)
    comparison = compare_summaries(worse, baseline(), policy.alpha, policy.margins, "run r1 on main")
    gate = evaluate(worse, policy, comparison)
    lines = render(context(summary=worse, comparison=comparison, gate=gate)).splitlines()
    assert lines[0] == "### ❌ Support bot: 1 metric regressed"
    # McNemar: 10 worse, 0 better, one-sided p = 0.5^10.
    p_value = scipy_stats.binomtest(0, 10, 0.5, alternative="less").pvalue
    assert p_value == pytest.approx(0.5**10)
    exact_change = scipy_stats.ttest_rel([1] * 10 + [0] * 15, [1] * 20 + [0] * 5).confidence_interval(0.98)
    assert lines[2] == (
        f"- Exact answer: regressed by 40.0 pp ({exact_change.low * 100:+.1f} to {exact_change.high * 100:+.1f}, "
        "p = 0.002, beyond the 2.0 pp margin)."
    )
    assert "**Regression in Exact answer: 10 testcases got worse, 0 better.**" in lines
    assert not gate.passed and gate.regressions == gate.failures


def test_without_a_baseline_the_regression_check_notes_it_has_nothing_to_check():
    gate = evaluate(summary(), parse_policy("", "point", True, "", 0.01), None)
    report = render(context(gate=gate, comparison=None))
    assert gate.passed and report.splitlines()[0].startswith("### ✅")
    assert "No baseline run to compare with: the regression check had nothing to check." in report


def test_a_lower_bound_threshold_compares_the_intervals_low_end():
    policy = parse_policy("Exact answer=60%", "lower-bound")
    gate = evaluate(summary(), policy)  # 78.3% but its 95% interval starts at 58.1%
    assert gate.failures == ["Exact answer: pass rate 78.3% has a 95% lower bound of 58.1%, below the 60.0% threshold."]
    assert "| Exact answer | 78.3% (58.1-90.3%) | ≥ 60.0% (lower bound) ❌ |" in render(context(gate=gate))
    assert evaluate(summary(), parse_policy("Exact answer=58%", "lower-bound")).passed


def test_trials_show_pass_all_trials_and_flaky_testcases():
    metrics = [metric_summary("12", "v12", {"name": "Exact answer", "output_type": "boolean"})]
    trials = {"t1": [True, True, True], "t2": [True, False, True], "t3": [False, False, False], "t4": [True] * 3}
    rows = [(unit, "v12", "scored", {"binaryScore": ok}) for unit, oks in trials.items() for ok in oks]
    run = summarize_rows("r2", "completed", 12, metrics, rows)
    report = render(context(summary=run, comparison=None, failing=[]))
    assert "| Exact answer | 66.7% (" in report and " · pass^3 50.0% |" in report
    assert "Flaky testcases (their trials disagree):\n- Exact answer: `t2`" in report


def test_failing_cases_are_collapsed_with_snippets():
    report = render(
        context(
            failing=[
                FailingCase(
                    "rec7",
                    None,
                    "(system)",
                    {"q": "What?"},
                    {},
                    {},
                    "timeout after 30s",
                    None,
                ),
                case(2, "Paris"),
            ]
        )
    )
    details = report[report.index("<details>") : report.index("</details>")]
    assert "<summary>2 failing cases</summary>" in details
    assert '- **(system)** · record `rec7` · error<br>Reason: timeout after 30s<br>Inputs: `{"q": "What?"}`' in details
    assert (
        "- **Exact answer** · testcase `tc2` · score 0<br>Reason: Paris<br>"
        'Inputs: `{"question": "Paris"}` · Expected: `{"answer": "Paris"}` · '
        'Outputs: `{"answer": "Paris"}`'
    ) in details
    assert Parsed(report).names >= {"details", "summary", "ul", "li", "code"}


@pytest.mark.parametrize(
    "gate_text, first_line",
    [
        ("0.7", "### ✅ Support bot: all thresholds met, overall pass rate 74.4%"),
        ("", "### ✅ Support bot: scoring finished, overall pass rate 74.4%"),
        ("0.9, Nope=0.5", "### ❌ Support bot: 2 thresholds not met"),
    ],
)
def test_verdict_from_the_gate(gate_text, first_line):
    gate = evaluate(summary(), parse_fail_under(gate_text))
    assert render(context(gate=gate)).splitlines()[0] == first_line


def test_verdict_without_gate_or_comparison():
    report = render(context(gate=None, comparison=None))
    assert report.splitlines()[0] == "### ✅ Support bot: scoring finished, overall pass rate 74.4%"
    assert "vs baseline" not in report and "Since the baseline" not in report


def test_verdict_while_scoring_and_on_error():
    running = summary("running_scoring", metric("1", "m", scored=3, errored=1, pending=6, passed=1))
    gate = evaluate(running, parse_fail_under("0.9"))
    report = render(context(summary=running, gate=gate, comparison=None))
    assert report.splitlines()[0] == "### ⏳ Support bot: scoring in progress, 4 of 10 scores done"
    assert "| 3 (+6 pending) | 1 |" in report
    failed = render(context(summary=summary("error"), gate=None))
    assert failed.splitlines()[0] == "### ❌ Support bot: the run ended with an error"


def test_the_verdict_follows_the_gate_on_a_run_that_ended_with_an_error():
    crashed = RunSummary(
        "r2",
        "error",
        8,
        [metric("12", "Exact answer", scored=4, passed=4, failed_calls=4)],
        failed_calls=4,
        error="4 record(s) failed during execution",
    )
    gate = evaluate(crashed, parse_fail_under("0.8"))
    lines = render(context(summary=crashed, gate=gate, comparison=None)).splitlines()
    assert lines[0] == "### ❌ Support bot: 1 threshold not met"
    assert "- Overall: pass rate 50.0% is below the 80.0% threshold." in lines
    assert (
        "⚠️ 4 of 8 system calls failed; each counts as failing for every metric.<br>"
        "The run ended with an error: 4 record(s) failed during execution"
    ) in lines
    assert "| **Overall** | 50.0% | ≥ 80.0% ❌ | 4 | 0 |" in lines
    met = render(context(summary=crashed, gate=evaluate(crashed, parse_fail_under("0.5")), comparison=None))
    assert met.splitlines()[0] == "### ✅ Support bot: all thresholds met, overall pass rate 50.0%"
    assert "⚠️ 4 of 8 system calls failed" in met


@pytest.mark.parametrize("gate_text", ["", "0"])
def test_a_run_without_a_successful_call_never_passes(gate_text):
    crashed = RunSummary("r2", "error", 8, [metric("12", "Exact answer", failed_calls=8)], failed_calls=8)
    gate = evaluate(crashed, parse_fail_under(gate_text))
    assert not gate.passed
    assert gate.failures[0] == "No system call succeeded: all 8 failed (see the failing cases)."
    lines = render(context(summary=crashed, gate=gate, comparison=None)).splitlines()
    assert lines[0] == "### ❌ Support bot: no system call succeeded"
    assert lines[2].startswith("⚠️ 8 of 8 system calls failed")


def test_untrusted_text_everywhere_stays_inert():
    nasty = "\n".join(NASTY)
    metrics = [metric("12", nasty, scored=2, passed=1), metric("13", "ok", scored=1, passed=1)]
    run = summary("completed", *metrics)
    gate = evaluate(run, parse_fail_under(f"0.9, 12=0.9, {NASTY[0]}=0.5"))
    failing = [case(n, text, metric_name=text) for n, text in enumerate(NASTY)]
    report = render(context(title=nasty, summary=run, gate=gate, failing=failing))
    parsed = Parsed(report)
    assert parsed.names <= {
        "h3",
        "p",
        "ul",
        "li",
        "a",
        "code",
        "strong",
        "br",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "details",
        "summary",
    }
    assert [attrs["href"] for tag, attrs in parsed.tags if tag == "a"] == [RUN_URL, ACTIONS_URL]
    assert [tag for tag, _ in parsed.tags].count("details") == 1
    assert parsed.comments == [" scorecard-eval testset=12 "]
    # Our sticky-comment lookup searches the raw body: only our marker may look like one.
    assert report.count("<!--") == 1 and report.endswith(MARKER + "\n")
    assert not re.search(r"@\w|#\d|://", parsed.prose)
    assert len(parsed.cells) == 4 * 6  # header, overall and two metrics, six columns each


def test_10000_huge_failing_cases_fit_in_a_github_comment():
    huge = "</details>`|@octocat\n" * 5000  # 100 KB
    failing = [case(n, huge) for n in range(10_000)]
    started = time.perf_counter()
    report = render(context(failing=failing), max_chars=GITHUB_COMMENT_LIMIT)
    assert time.perf_counter() - started < 2.0
    assert len(report) <= GITHUB_COMMENT_LIMIT
    kept = report.count("\n- **")
    assert 0 < kept < 10_000
    assert report.endswith(
        f"\n…and {10_000 - kept} more — see the full run: [Scorecard run]({RUN_URL})\n\n</details>\n\n{MARKER}\n"
    )
    parsed = Parsed(report)
    assert [tag for tag, _ in parsed.tags].count("details") == 1
    assert parsed.comments == [" scorecard-eval testset=12 "]
    assert GITHUB_COMMENT_LIMIT - len(report) < 2_000  # dropped no more than needed


def test_every_limit_is_met_by_dropping_cases_not_figures():
    failing = [case(n, "answer " * 40) for n in range(200)]
    for max_chars in range(2_000, 12_000, 97):
        report = render(context(failing=failing), max_chars=max_chars)
        assert len(report) <= max_chars
        assert "more — see the full run" in report and "cut to fit" not in report


def test_all_cases_without_a_limit_and_when_they_fit():
    failing = [case(n) for n in range(50)]
    assert render(context(failing=failing)).count("\n- **") == 50
    assert render(context(failing=failing), max_chars=GITHUB_COMMENT_LIMIT) == render(context(failing=failing))


def test_figures_too_big_for_the_limit_are_cut_at_a_line():
    metrics = [metric(str(n), "m" * 500 + str(n), scored=1, passed=0) for n in range(2000)]
    run = summary("completed", *metrics)
    report = render(context(summary=run, failing=[case(1)]), max_chars=GITHUB_COMMENT_LIMIT)
    assert len(report) <= GITHUB_COMMENT_LIMIT
    assert report.endswith(f"|\n\n…cut to fit — see the full run: [Scorecard run]({RUN_URL})\n\n{MARKER}\n")
    assert "<details>" not in report


def test_bad_arguments_are_programming_errors():
    with pytest.raises(ValueError, match="max_chars"):
        render(context(), max_chars=10)
    with pytest.raises(ValueError, match="marker"):
        context(marker="scorecard-eval")
