"""Small formatters for card text: markdown escaping, evidence lists, numbers, times, summaries.

Card ``detail`` is GitHub Flavored Markdown [CDS Card Attributes]. Text that comes from the
patient's record (therapy names, organisms, condition names) and the grader's sentences are
escaped so that they can never turn into links, HTML or emphasis; our own formatting is added
around them. The escaping is deliberately light (``<`` only before a letter, where GFM would read
a tag) so that EHRs that show markdown as plain text still show readable sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crs_grading import wording

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

MAX_SUMMARY = wording.MAX_SUMMARY

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
    """A value for a card: at most ``digits`` decimals (``crs_grading.wording.number``)."""
    return wording.number(float(value), digits)


clock = wording.clock
sentence = wording.sentence


fit_summary = wording.fit_summary
