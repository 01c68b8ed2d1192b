"""Whole-word name matching in free text (coding displays, CodeableConcept.text).

SPEC 3: medications are matched "by name in display or text (case-insensitive, word boundary)".
A phrase matches only where it is not glued to other letters or digits, so "dopamine" never
matches "dobutamine" and "TIL" never matches "until". Spaces and hyphens inside a phrase match
any run of spaces or hyphens, or none ("non-rebreather" matches "nonrebreather"), unless the
phrase is ``separated`` ("CAR T" must never match "cart"). Other punctuation inside a phrase
must be there in the text ("E. coli", "culture, blood"). Acronyms that are common words in lower
case ("TIL", "NC", "RA") are matched case-sensitively.

Bounded work (issue 11: a 20 MB Condition.code.text kept a worker busy for 31 s): only the first
``MAX_MATCH_CHARACTERS`` characters of a text are read, and of a list of texts only the first
``MAX_MATCH_TEXTS``. The text is split into words once (one pass of one small regular
expression); each word is looked up in a dict of the phrases that start with it, so the work is
linear in the length of the text read and does not grow with the number of phrases in the list.
No name a clinician charts comes near the cap.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any, Generic, TypeVar

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

#: Characters of one text read for matching; the rest is ignored (docs/fhir-mapping.md).
MAX_MATCH_CHARACTERS = 1000
#: Texts of one list (a CodeableConcept's displays and text) read for matching.
MAX_MATCH_TEXTS = 32

_WORD = re.compile(r"[0-9A-Za-z]+")
#: Where a clause of a charted text ends: a comma, semicolon, colon or line break, or a full stop
#: that ends a sentence (not the point of an abbreviation such as "E. coli").
_CLAUSE_END = re.compile(r"[,;:\n]|(?<!\b[A-Za-z])\.(?=\s|$)")
#: Words that end the reach of a negation inside a clause ("No seizure but posturing").
_CONTRAST = re.compile(r"\b(?:but|however|although)\b", re.IGNORECASE)
_SOFT = frozenset(" \t\r\n\f\v-")


@dataclass(frozen=True, slots=True)
class Phrase(Generic[T_co]):
    """One phrase of a name list and what it means.

    ``separated``: the words must be apart in the text (by spaces or hyphens), never glued.
    """

    text: str
    value: T_co
    case_sensitive: bool = False
    separated: bool = False


def phrases(value: T, *texts: str) -> tuple[Phrase[T], ...]:
    """Case-insensitive phrases that all mean ``value``."""
    return tuple(Phrase(text, value) for text in texts)


def acronyms(value: T, *texts: str) -> tuple[Phrase[T], ...]:
    """Case-sensitive phrases (acronyms) that all mean ``value``."""
    return tuple(Phrase(text, value, case_sensitive=True) for text in texts)


def separated(value: T, *texts: str) -> tuple[Phrase[T], ...]:
    """Case-insensitive phrases whose words must not be glued together in the text."""
    return tuple(Phrase(text, value, separated=True) for text in texts)


def words(text: str) -> list[tuple[str, int, int]]:
    """The words (runs of ASCII letters and digits) of the first ``MAX_MATCH_CHARACTERS``
    characters of ``text``, each with its start and end."""
    head = text[:MAX_MATCH_CHARACTERS]
    return [(match.group(), match.start(), match.end()) for match in _WORD.finditer(head)]


def clauses(text: str) -> list[str]:
    """The clauses of the first ``MAX_MATCH_CHARACTERS`` characters of ``text``: "No aerobic
    growth, Staphylococcus aureus isolated" is two."""
    return _CLAUSE_END.split(text[:MAX_MATCH_CHARACTERS])


def _is_soft(gap: str) -> bool:
    return all(character in _SOFT for character in gap)


def _hard(gap: str) -> str:
    """A separator with its spaces removed: what must be there ("." of "E. coli")."""
    return "".join(character for character in gap if not character.isspace())


@dataclass(frozen=True, slots=True)
class _Variant(Generic[T_co]):
    """One way a phrase can appear: its words (lower case unless case-sensitive) and, between
    each two, ``None`` for spaces or hyphens, else the punctuation that must be there."""

    words: tuple[str, ...]
    gaps: tuple[str | None, ...]
    case_sensitive: bool
    values: tuple[T_co, ...]  # every value of the phrases spelled this way
    length: int  # the phrase's length: longer phrases are tried first


def _variants(phrase: Phrase[T]) -> list[_Variant[T]]:
    found = list(_WORD.finditer(phrase.text))
    if not found:
        return []
    spelled = [match.group() for match in found]
    if not phrase.case_sensitive:
        spelled = [word.lower() for word in spelled]
    gaps: list[str | None] = []
    for before, after in zip(found, found[1:], strict=False):
        gap = phrase.text[before.end() : after.start()]
        gaps.append(None if _is_soft(gap) else _hard(gap))
    # Soft separators may also be absent in the text ("blow-by", "blowby"), unless separated.
    joinable = [gap is None and not phrase.separated for gap in gaps]
    result: list[_Variant[T]] = []
    for joins in product(*[(False, True) if can else (False,) for can in joinable]):
        merged = [spelled[0]]
        merged_gaps: list[str | None] = []
        for index, join in enumerate(joins):
            if join:
                merged[-1] += spelled[index + 1]
            else:
                merged.append(spelled[index + 1])
                merged_gaps.append(gaps[index])
        result.append(
            _Variant(
                tuple(merged),
                tuple(merged_gaps),
                phrase.case_sensitive,
                (phrase.value,),
                len(phrase.text),
            )
        )
    return result


class NameMatcher(Generic[T]):
    """Finds the phrases of a name list in text, as whole words; at one position the longest
    phrase wins, and matches do not overlap (left to right)."""

    def __init__(self, rows: Iterable[Phrase[T]]) -> None:
        self._rows: list[Phrase[T]] = list(rows)
        # Phrases spelled alike (the same word in two lists) become one variant with all values.
        spelled: dict[tuple[tuple[str, ...], tuple[str | None, ...], bool], _Variant[T]] = {}
        for row in self._rows:
            for variant in _variants(row):
                key = (variant.words, variant.gaps, variant.case_sensitive)
                known = spelled.get(key)
                if known is None:
                    spelled[key] = variant
                elif variant.values[0] not in known.values:
                    spelled[key] = _Variant(
                        known.words,
                        known.gaps,
                        known.case_sensitive,
                        known.values + variant.values,
                        max(known.length, variant.length),
                    )
        index: dict[str, list[_Variant[T]]] = {}
        for variant in spelled.values():
            index.setdefault(variant.words[0].lower(), []).append(variant)
        for candidates in index.values():
            candidates.sort(key=lambda variant: -variant.length)
        self._index = index

    @property
    def rows(self) -> tuple[Phrase[T], ...]:
        """The phrases of the list (for documentation checks)."""
        return tuple(self._rows)

    def find(self, text: str) -> list[T]:
        """Values of every phrase found in ``text``, in the order they occur."""
        if not self._index:
            return []
        head = text[:MAX_MATCH_CHARACTERS]
        tokens = words(head)
        found: list[T] = []
        position = 0
        while position < len(tokens):
            candidates = self._index.get(tokens[position][0].lower())
            matched = 0
            if candidates is not None:
                for variant in candidates:
                    matched = _match(variant, tokens, position, head)
                    if matched:
                        found.extend(variant.values)
                        break
            position += matched or 1
        return found

    def find_in(self, texts: Sequence[str]) -> list[T]:
        """Values found in any of ``texts``, in order, without repeats."""
        found: list[T] = []
        for text in texts[:MAX_MATCH_TEXTS]:
            for value in self.find(text):
                if value not in found:
                    found.append(value)
        return found

    def first(self, texts: Sequence[str]) -> T | None:
        """The first value found in ``texts``, or ``None``."""
        for text in texts[:MAX_MATCH_TEXTS]:
            values = self.find(text)
            if values:
                return values[0]
        return None


def _match(variant: _Variant[T], tokens: list[tuple[str, int, int]], at: int, text: str) -> int:
    """The number of text words ``variant`` covers from word ``at``, or 0."""
    count = len(variant.words)
    if at + count > len(tokens):
        return 0
    for offset, expected in enumerate(variant.words):
        word = tokens[at + offset][0]
        if (word if variant.case_sensitive else word.lower()) != expected:
            return 0
        if offset:
            gap = text[tokens[at + offset - 1][2] : tokens[at + offset][1]]
            wanted = variant.gaps[offset - 1]
            if wanted is None:
                if not gap or not _is_soft(gap):
                    return 0
            elif _hard(gap) != wanted:
                return 0
    return count


@dataclass(frozen=True, slots=True)
class Veto(Generic[T_co]):
    """A word that, found in the same text, cancels a name of ``key`` ("urine" in "Creatinine,
    urine" is not serum creatinine; "ruled out" in "Sepsis ruled out" is no sepsis)."""

    key: T_co
    #: In ``affirmed`` a veto reaches its own clause only, unless ``anywhere`` ("ruled out"
    #: says the named thing is not there, wherever it stands; "prophylaxis" is about the care of
    #: the thing named beside it: "Seizure, on levetiracetam prophylaxis" is a seizure).
    anywhere: bool = False


def vetoes(*keys: T, texts: Iterable[str], anywhere: bool = False) -> tuple[Phrase[Veto[T]], ...]:
    """Case-insensitive veto phrases that each cancel every one of ``keys``."""
    return tuple(Phrase(text, Veto(key, anywhere)) for key in keys for text in texts)


def surviving(
    found: Iterable[T | Veto[object]], key: Callable[[T], object] | None = None
) -> list[T]:
    """The values found in one text that no veto of the same text cancels, in order. A veto
    cancels the values whose ``key`` (the value itself by default) is its key."""
    values = list(found)
    cancelled = {value.key for value in values if isinstance(value, Veto)}
    kept: list[T] = []
    for value in values:
        if isinstance(value, Veto):
            continue
        if (key(value) if key is not None else value) in cancelled or value in kept:
            continue
        kept.append(value)
    return kept


@dataclass(frozen=True, slots=True)
class Negation(Generic[T_co]):
    """A word that negates what follows it, to the end of its clause: the names of ``key``
    there ("No seizure activity", "History of seizures") and the vetoes of ``key`` there ("New
    onset seizure, no prior history": the history is negated, not the seizure)."""

    key: T_co


def negations(*keys: T, texts: Iterable[str]) -> tuple[Phrase[Negation[T]], ...]:
    """Case-insensitive negation phrases that each negate every one of ``keys``."""
    return tuple(Phrase(text, Negation(key)) for key in keys for text in texts)


def affirmed(
    matcher: NameMatcher[T | Veto[Any] | Negation[Any]],
    text: str,
    key: Callable[[T], object] | None = None,
) -> list[T]:
    """The values named in ``text`` that no negation or veto cancels, in order.

    Read clause by clause (``clauses``; "but", "however" and "although" end a negation's reach
    too). A ``Negation`` cancels the values and the vetoes of its key after it in its clause;
    the vetoes it does not cancel cancel the values of their key in their clause ("Seizure
    precautions"; found in review: "Seizure, on levetiracetam prophylaxis" and "Delirium,
    CAM-ICU screening positive" lost their sign to a veto of another clause), or in the whole
    text when ``Veto.anywhere`` ("Encephalopathy, ruled out")."""
    kept: list[T] = []
    anywhere: list[Veto[Any]] = []
    for clause in clauses(text):
        for part in _CONTRAST.split(clause):
            negated: set[object] = set()
            found: list[T | Veto[Any]] = []
            for value in matcher.find(part):
                if isinstance(value, Negation):
                    negated.add(value.key)
                    continue
                of = value.key if isinstance(value, Veto) else (key(value) if key else value)
                if of in negated:
                    continue
                if isinstance(value, Veto) and value.anywhere:
                    anywhere.append(value)
                found.append(value)
            kept.extend(surviving(found, key))
    return surviving([*kept, *anywhere], key)
