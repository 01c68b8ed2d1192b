"""Small formatters for card text: markdown escaping, evidence lists, numbers, times, summaries.

Card ``detail`` is GitHub Flavored Markdown [CDS Card Attributes]. Text that comes from the
patient's record (therapy names, organisms, condition names) and the grader's sentences are
escaped so that they can never turn into links, HTML or emphasis; our own formatting is added
around them. The escaping is deliberately light (``<`` only before a letter, where GFM would read
a tag) so that EHRs that show markdown as plain text still show readable sentences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

__all__ = [
    "MAX_SUMMARY",
    "bullet_list",
    "clock",
    "evidence",
    "fit_summary",
    "md",
    "number",
    "sentence",
    "with_evidence",
]

#: CDS Hooks 2.0.1 Card.summary: "<140-character".
MAX_SUMMARY = 139

#: At most this many references are printed per line; the rest are counted.
MAX_EVIDENCE = 3

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])|<(?=[A-Za-z/!?])")


def md(text: str) -> str:
    """``text`` escaped for markdown: ``\\ ` * _ [ ]`` and a ``<`` that could open a tag."""

    def escape(match: re.Match[str]) -> str:
        return "\\" + match.group(0)

    return _MARKDOWN_SPECIAL.sub(escape, " ".join(text.split()))


def evidence(references: Sequence[str], limit: int = MAX_EVIDENCE) -> str:
    """Resource references as code spans: ``Observation/a``, ``Observation/b`` and 4 more."""
    unique = list(dict.fromkeys(references))
    if not unique:
        return ""
    shown = ", ".join(f"`{reference.replace('`', '')}`" for reference in unique[:limit])
    hidden = len(unique) - limit
    return shown if hidden <= 0 else f"{shown} and {hidden} more"


def with_evidence(line: str, references: Sequence[str]) -> str:
    """``line`` followed by its evidence in brackets, when there is any."""
    cited = evidence(references)
    return f"{line} ({cited})" if cited else line


def bullet_list(lines: Sequence[str]) -> str:
    """A markdown bullet list (lines already formatted)."""
    return "\n".join(f"- {line}" for line in lines)


def number(value: float, digits: int = 1) -> str:
    """A value for a card: at most ``digits`` decimals, no trailing zeros: 13.60 -> "13.6"."""
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def clock(moment: datetime) -> str:
    """A time as the treatment texts write it: "2026-11-23 10:00 UTC"."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def sentence(text: str) -> str:
    """``text`` with a capital first letter and a closing full stop."""
    text = " ".join(text.split())
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."


def fit_summary(*candidates: str) -> str:
    """The first candidate shorter than 140 characters, else the last one cut with an ellipsis.

    Candidates go from the most to the least complete wording, so a long therapy name or next
    step costs words, never the grade.
    """
    if not candidates:
        raise ValueError("fit_summary needs at least one candidate")
    for candidate in candidates:
        text = " ".join(candidate.split())
        if len(text) <= MAX_SUMMARY:
            return text
    last = " ".join(candidates[-1].split())
    return last[: MAX_SUMMARY - 1].rstrip() + "…"
