"""Workflow commands read back the way the Actions runner reads them: command lines parsed and
unescaped as GitHub documents (honouring ``stop-commands``), output files parsed as heredocs."""

from __future__ import annotations

import io
import re

import pytest

import runner.workflow as workflow
from runner.workflow import Workflow, escape_data, escape_property

NASTY = "50% done\r\n::warning::injected\n::add-mask::x, y: z"


def _unescape(value: str, mappings: list[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        value = value.replace(replacement, token)
    return value


DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]
PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]


def runner_commands(log: str) -> list[tuple[str, dict[str, str], str]]:
    """(command, properties, data) for each line the runner would act on."""
    commands, resume_token = [], None
    for line in log.splitlines():
        line = line.strip()
        if resume_token is not None:
            if line == f"::{resume_token}::":
                resume_token = None
            continue
        match = re.fullmatch(r"::([^ :]+)(?: ([^:]*))?::(.*)", line)
        if not match:
            continue
        name, listed, data = match.groups()
        properties = dict(pair.split("=", 1) for pair in listed.split(",")) if listed else {}
        properties = {key: _unescape(value, PROPERTY) for key, value in properties.items()}
        if name == "stop-commands":
            resume_token = data
            continue
        commands.append((name, properties, _unescape(data, DATA)))
    return commands


def runner_outputs(text: str) -> dict[str, str]:
    """The runner's reading of $GITHUB_OUTPUT: `name=value` or `name<<DELIMITER` heredocs."""
    outputs, lines = {}, iter(text.split("\n"))
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            body = []
            for body_line in lines:
                if body_line == delimiter:
                    break
                body.append(body_line)
            else:
                raise AssertionError(f"heredoc {delimiter} never closed")
            outputs[name] = "\n".join(body)
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
    return outputs


@pytest.fixture
def files(tmp_path):
    (tmp_path / "output").write_text("", encoding="utf-8")
    (tmp_path / "summary").write_text("", encoding="utf-8")
    return tmp_path


@pytest.fixture
def actions(files):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_OUTPUT": str(files / "output"),
        "GITHUB_STEP_SUMMARY": str(files / "summary"),
    }
    return Workflow(io.StringIO(), env)


def log_of(flow: Workflow) -> str:
    return flow.stream.getvalue()


def test_escaping_follows_githubs_rules():
    assert escape_data("100%\r\n:,") == "100%25%0D%0A:,"
    assert escape_property("100%\r\n:,") == "100%25%0D%0A%3A%2C"


@pytest.mark.parametrize("level", ["error", "warning", "notice"])
def test_annotations_round_trip_and_cannot_inject(actions, level):
    getattr(actions, level)(NASTY, title="Gate: a, b 100%")
    getattr(actions, level)("no title")
    assert runner_commands(log_of(actions)) == [
        (level, {"title": "Gate: a, b 100%"}, NASTY),
        (level, {}, "no title"),
    ]
    assert log_of(actions).count("\n") == 2


def test_group_wraps_its_lines(actions):
    with actions.group("Calling the system: 12 testcases\n::error::x"):
        print("inside", file=actions.stream)
    assert log_of(actions).splitlines()[1:] == ["inside", "::endgroup::"]
    assert runner_commands(log_of(actions)) == [
        ("group", {}, "Calling the system: 12 testcases\n::error::x"),
        ("endgroup", {}, ""),
    ]


def test_untrusted_output_cannot_issue_commands(actions):
    with actions.untrusted_output():
        print("::add-mask::nothing\n::set-output name=pwned::1\n::error::fake", file=actions.stream)
    actions.error("ours")
    lines = log_of(actions).splitlines()
    token = lines[0].removeprefix("::stop-commands::")
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert lines[-2] == f"::{token}::"
    assert runner_commands(log_of(actions)) == [("error", {}, "ours")]
    with actions.untrusted_output():
        pass
    assert token not in log_of(actions).splitlines()[-2]  # a fresh token each time


def test_untrusted_output_closes_even_when_the_block_fails(actions):
    with pytest.raises(RuntimeError):
        with actions.untrusted_output():
            raise RuntimeError("system crashed")
    actions.notice("after")
    assert runner_commands(log_of(actions)) == [("notice", {}, "after")]


def test_add_mask_masks_each_line(actions):
    actions.add_mask("sk-first\nsecond line\n\n")
    assert runner_commands(log_of(actions)) == [("add-mask", {}, "sk-first"), ("add-mask", {}, "second line")]


def test_set_output_is_multiline_safe(actions, files):
    tricky = "line one\nEOF\nscorecard_x\npwned<<EOF\nowned\nEOF\n"
    actions.set_output("run-id", "r42")
    actions.set_output("report_markdown", tricky)
    actions.set_output("empty", "")
    written = (files / "output").read_text(encoding="utf-8")
    assert runner_outputs(written) == {"run-id": "r42", "report_markdown": tricky, "empty": ""}
    delimiters = re.findall(r"^(?:run-id|report_markdown|empty)<<(.+)$", written, re.MULTILINE)
    assert len(set(delimiters)) == 3 and all(re.fullmatch(r"scorecard_[0-9a-f]{32}", d) for d in delimiters)
    assert log_of(actions) == ""


@pytest.mark.parametrize("name", ["", "1st", "a b", "x<<y", "a\nb", "a=b"])
def test_set_output_rejects_names_that_would_break_the_file(actions, name):
    with pytest.raises(ValueError, match="output name"):
        actions.set_output(name, "v")


def test_append_summary_appends_markdown(actions, files):
    actions.append_summary("### ✅ Support bot")
    actions.append_summary("| a |\n| - |\n")
    assert (files / "summary").read_text(encoding="utf-8") == "### ✅ Support bot\n| a |\n| - |\n"


def test_outside_actions_plain_lines(files):
    local = Workflow(io.StringIO(), {})
    local.error("gate failed", title="Scorecard")
    local.warning("slow system")
    with local.group("Uploading records"):
        with local.untrusted_output():
            print("system says hi", file=local.stream)
    local.add_mask("secret")
    local.set_output("run-id", "r42")
    local.append_summary("### ✅ done")
    assert log_of(local).splitlines() == [
        "error: Scorecard: gate failed",
        "warning: slow system",
        "== Uploading records ==",
        "system says hi",
        "output run-id: r42",
        "### ✅ done",
    ]


def test_a_local_run_may_name_the_files_too(files):
    """The demo keeps the summary and outputs the Action would post, without workflow commands."""
    env = {"GITHUB_OUTPUT": str(files / "output"), "GITHUB_STEP_SUMMARY": str(files / "summary")}
    local = Workflow(io.StringIO(), env)
    local.set_output("run-id", "r42")
    local.append_summary("### ✅ done")
    assert log_of(local) == ""
    assert "r42" in (files / "output").read_text() and (files / "summary").read_text() == "### ✅ done\n"


def test_actions_without_the_files_prints_instead(files):
    flow = Workflow(io.StringIO(), {"GITHUB_ACTIONS": "true"})
    flow.set_output("run-id", "r42")
    flow.append_summary("summary")
    assert log_of(flow).splitlines() == ["output run-id: r42", "summary"]


def test_module_functions_use_stdout_and_the_process_environment(monkeypatch, capsys, files):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(files / "output"))
    workflow.error("boom", title="t")
    workflow.set_output("passed", "false")
    assert capsys.readouterr().out == "::error title=t::boom\n"
    assert runner_outputs((files / "output").read_text()) == {"passed": "false"}
    monkeypatch.delenv("GITHUB_ACTIONS")
    workflow.notice("hello")
    assert capsys.readouterr().out == "notice: hello\n"
