"""Untrusted text made safe for GitHub Markdown (PR comments, job summaries).

Everything that comes from users or their systems (testset and metric names, inputs, outputs,
expected values, judge reasons) goes through ``escape_text``, ``escape_cell`` or ``inline_code``:
it must not break the layout, inject HTML or links, notify people with @mentions, or fake the
hidden marker that identifies our sticky comment."""

from __future__ import annotations

import re
from urllib.parse import quote

CELL_LIMIT = 120
SNIPPET_LIMIT = 160

_ZWSP = "\u200b"
# Control characters and bidi overrides can garble or disguise the text around them.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# GitHub links these even after Markdown escaping (it scans the rendered text): mentions notify
# people, issue references post to other threads, bare URLs become links.
_AUTOLINKED = re.compile(r"(?<=@)(?=[\w-])|(?<=#)(?=\d)|(?<=GH-)(?=\d)|(?<=:)(?=//)|(?<=www)(?=\.)", re.IGNORECASE)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]|~^$])")
# At the start of a line these begin headings, lists or quotes.
_LEADING_BLOCK_MARKER = re.compile(r"^(\d*)([#+\-=.)])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


# -- escaping untrusted text ---------------------------------------------------------------------


def _defuse(text: str) -> str:
    return _AUTOLINKED.sub(_ZWSP, _INVISIBLE.sub("", text))


def _escape_line(line: str) -> str:
    line = _MARKDOWN_PUNCTUATION.sub(r"\\\1", _defuse(line.strip()))
    line = _LEADING_BLOCK_MARKER.sub(r"\1\\\2", line)
    return "".join(_HTML.get(char, char) for char in line)


def _shorten(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def escape_text(text: str, limit: int | None = None) -> str:
    """Untrusted text as inline Markdown for a paragraph or list item: shows literally, on one
    source line (line breaks become ``<br>``) so it can never start a block of its own."""
    lines = [_escape_line(line) for line in _LINE_BREAK.split(_shorten(str(text), limit))]
    return "<br>".join(line for line in lines if line)


def escape_cell(text: str, limit: int | None = CELL_LIMIT) -> str:
    """Untrusted text for a table cell: one short line, pipes escaped so cells stay put."""
    return _escape_line(" ".join(_shorten(str(text), limit).split()))


def inline_code(text: str, limit: int | None = SNIPPET_LIMIT) -> str:
    """Untrusted text as a code span. Not for table cells: GitHub splits cells on pipes even
    inside code. The fence is longer than any backtick run inside, so the text cannot close it."""
    text = _INVISIBLE.sub("", _LINE_BREAK.sub("↵", _shorten(str(text), limit)))
    # Code shows verbatim, so a raw ``<!--`` would survive into the comment body and could fake our marker.
    text = text.replace("<!--", "<" + _ZWSP + "!--")
    if not text:
        return "` `"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    # CommonMark strips one space from each end of a span that is not all spaces; pad to keep them.
    pad = " " if text.strip() and (text[0] in "` " or text[-1] in "` ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def link(label: str, url: str | None) -> str:
    """A Markdown link to one of our own URLs (run, Actions run); just the label without one."""
    if not url or not re.match(r"https?://", url):
        return label
    return f"[{label}]({quote(url, safe=':/?#[]@!$&*+,;=%~')})"
