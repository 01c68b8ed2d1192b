"""Whole-word name matching in free text (coding displays, CodeableConcept.text).

SPEC 3: medications are matched "by name in display or text (case-insensitive, word boundary)".
A phrase matches only where it is not glued to other letters or digits, so "dopamine" never
matches "dobutamine" and "TIL" never matches "until". Spaces and hyphens inside a phrase match
any run of spaces or hyphens ("CAR T" matches "CAR-T" and "CAR  T"). Acronyms that are common
words in lower case ("TIL", "NC", "RA") are matched case-sensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

_SEPARATORS = re.compile(r"[\s\-]+")


@dataclass(frozen=True, slots=True)
class Phrase(Generic[T_co]):
    """One phrase of a name list and what it means."""

    text: str
    value: T_co
    case_sensitive: bool = False


def phrases(value: T, *texts: str) -> tuple[Phrase[T], ...]:
    """Case-insensitive phrases that all mean ``value``."""
    return tuple(Phrase(text, value) for text in texts)


def acronyms(value: T, *texts: str) -> tuple[Phrase[T], ...]:
    """Case-sensitive phrases (acronyms) that all mean ``value``."""
    return tuple(Phrase(text, value, case_sensitive=True) for text in texts)


def _pattern(phrase: Phrase[T]) -> str:
    words = [re.escape(word) for word in _SEPARATORS.split(phrase.text.strip()) if word]
    body = r"[\s\-]*".join(words)
    return body if phrase.case_sensitive else f"(?i:{body})"


class NameMatcher(Generic[T]):
    """Finds the phrases of a name list in text, as whole words; longest phrase first."""

    def __init__(self, rows: Iterable[Phrase[T]]) -> None:
        self._rows: list[Phrase[T]] = sorted(rows, key=lambda row: -len(row.text))
        if not self._rows:
            self._regex: re.Pattern[str] | None = None
            return
        alternatives = "|".join(f"(?P<p{i}>{_pattern(row)})" for i, row in enumerate(self._rows))
        self._regex = re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])")

    def find(self, text: str) -> list[T]:
        """Values of every phrase found in ``text``, in the order they occur."""
        if self._regex is None:
            return []
        found: list[T] = []
        for match in self._regex.finditer(text):
            group = match.lastgroup
            if group is not None:
                found.append(self._rows[int(group[1:])].value)
        return found

    def find_in(self, texts: Sequence[str]) -> list[T]:
        """Values found in any of ``texts``, in order, without repeats."""
        found: list[T] = []
        for text in texts:
            for value in self.find(text):
                if value not in found:
                    found.append(value)
        return found

    def first(self, texts: Sequence[str]) -> T | None:
        """The first value found in ``texts``, or ``None``."""
        for text in texts:
            values = self.find(text)
            if values:
                return values[0]
        return None
