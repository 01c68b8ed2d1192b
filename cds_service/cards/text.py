"""Markdown for card text: escaping, and laying out the sections the clinical core wrote.

Card ``detail`` is GitHub Flavored Markdown [CDS Card Attributes]. Every text is escaped, since
it carries words from the patient's record (therapy names, organisms, condition names), so that
it can never turn into a link, HTML or emphasis; the markdown (bold headings, bullets) is added
around it here. The escaping is deliberately light (``<`` only before a letter, where GFM would
read a tag) so that EHRs that show markdown as plain text still show readable sentences.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from crs_grading import wording
from crs_grading.wording.cards import Section

__all__ = ["MAX_SUMMARY", "detail", "md"]

MAX_SUMMARY = wording.MAX_SUMMARY

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]])|<(?=[A-Za-z/!?])")


def md(text: str) -> str:
    """``text`` escaped for markdown: ``\\ ` * _ [ ]`` and a ``<`` that could open a tag."""

    def escape(match: re.Match[str]) -> str:
        return "\\" + match.group(0)

    return _MARKDOWN_SPECIAL.sub(escape, " ".join(text.split()))


def _section(section: Section) -> str:
    lines = [md(line.text) for line in section.lines]
    if section.strong:
        lines = [f"**{line}**" for line in lines]
    body = "\n".join(f"- {line}" for line in lines) if section.bulleted else " ".join(lines)
    if section.heading is None:
        return body
    heading = f"**{md(section.heading)}:**"
    return f"{heading}\n{body}" if section.bulleted else f"{heading} {body}"


def detail(sections: Sequence[Section]) -> str:
    """The markdown detail of a card: its sections, a blank line apart."""
    return "\n\n".join(_section(section) for section in sections)
