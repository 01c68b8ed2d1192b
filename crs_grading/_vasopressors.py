"""Vasopressor drips as findings: seed Table 2 and Table 3, ASTCT 2019 (SPEC 2.3, 2.4).

Steps, each O(n log n) or better:

1. Per agent, administrations become *pieces* of constant rate. A later administration of the
   same agent supersedes an earlier one from its start (a rate change), so pieces of one agent
   never overlap; a pause no longer than ``infusion_gap`` is bridged. An administration with no
   end runs until the next one of its agent, else until ``as_of`` when in progress, else it is a
   point in time (and a data gap).
2. A sweep over the pieces' start and end times cuts the timeline into *segments* in which the
   set of running agents and their doses are constant (at most one piece per agent).
3. Each segment is checked once against seed Table 3; consecutive segments that are high dose
   form a run, and a run of >= 3 h is ``vasopressor-high-dose``. Concurrency and single drips are
   read off the same segments.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from crs_grading._model import Context, Finding, Gaps, format_duration, format_number
from crs_grading.criteria import Criterion
from crs_grading.inputs import Measurement, RateBasis, Vasopressor, VasopressorAdministration
from crs_grading.tables import astct2019, lee2014
from crs_grading.tables.common import meets

_UNKNOWN_DOSE = "counted as a vasopressor of unknown dose"


@dataclass(frozen=True, slots=True)
class Piece:
    """One agent at one dose from ``start`` to ``end`` (equal: a point in time).

    ``dose`` is in ``lee2014.DOSE_BASIS[agent]`` units, ``None`` when unknown.
    """

    agent: Vasopressor
    start: datetime
    end: datetime
    dose: float | None
    reference: str
    weight_reference: str | None = None
    charted: str | None = None  # the rate as charted, when it was converted ("0.05 ug/kg/min")

    @property
    def evidence(self) -> tuple[str, ...]:
        if self.weight_reference is None:
            return (self.reference,)
        return (self.reference, self.weight_reference)

    @property
    def dose_text(self) -> str:
        """The rate as the clinician charted it: "norepinephrine 0.05 ug/kg/min"."""
        if self.dose is None:
            return f"{self.agent} (dose unknown)"
        if self.charted is not None:
            return f"{self.agent} {self.charted}"
        return f"{self.agent} {format_number(self.dose)} {lee2014.DOSE_BASIS[self.agent]}"

    @property
    def table_dose_text(self) -> str:
        """The rate as charted and, when converted, in the units seed Table 3 compares:
        "norepinephrine 0.6 ug/kg/min (48 ug/min)"."""
        if self.dose is None or self.charted is None:
            return self.dose_text
        return (
            f"{self.dose_text} ({format_number(self.dose)} {lee2014.DOSE_BASIS[self.agent]})"
        )


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time during which the running pieces do not change."""

    start: datetime
    end: datetime
    pieces: tuple[Piece, ...]  # at most one per agent, ordered by agent

    @property
    def agents(self) -> tuple[Vasopressor, ...]:
        return tuple(piece.agent for piece in self.pieces)

    @property
    def evidence(self) -> tuple[str, ...]:
        return tuple(ref for piece in self.pieces for ref in piece.evidence)


@dataclass(frozen=True, slots=True)
class VasopressorFindings:
    pieces: tuple[Piece, ...]
    lee: list[Finding]
    astct: list[Finding]


def convert_dose(
    admin: VasopressorAdministration, weight: Measurement | None
) -> tuple[float | None, str | None, str | None]:
    """The dose in seed Table 3 units, the weight used (reference), and a gap when unknown.

    ug/kg/min x kg = ug/min; dopamine's Table 3 dose is per kg, so ug/min / kg (SPEC 2.3).
    """
    agent = admin.agent
    if admin.rate is None:
        reason = admin.rate_gap or "no rate recorded"
        return None, None, f"{agent} rate unknown ({reason}): {_UNKNOWN_DOSE}"
    target = lee2014.DOSE_BASIS[agent]
    basis, value = admin.rate.basis, admin.rate.value
    if basis is target:
        return value, None, None
    weight_based = {RateBasis.MICROGRAMS_PER_MIN, RateBasis.MICROGRAMS_PER_KG_PER_MIN}
    if {basis, target} != weight_based:
        return (
            None,
            None,
            f"{agent} rate in {basis} cannot be compared with the high-dose thresholds: "
            f"{_UNKNOWN_DOSE}",
        )
    if weight is None or weight.value <= 0:
        return (
            None,
            None,
            (f"{agent} rate in {basis} cannot be converted without a body weight: {_UNKNOWN_DOSE}"),
        )
    dose = (
        value * weight.value
        if basis is RateBasis.MICROGRAMS_PER_KG_PER_MIN
        else value / weight.value
    )
    return dose, weight.reference, None


def _end(
    admin: VasopressorAdministration, following: datetime | None, ctx: Context
) -> tuple[datetime, str | None]:
    """When the administration stops running, and a gap when that is a guess."""
    limit = max(admin.start, ctx.as_of)
    if admin.end is None:
        if following is not None:
            end = following
        elif admin.in_progress:
            end = limit
        else:
            gap = f"{admin.agent} administration end time unknown: counted at its start only"
            return admin.start, gap
    elif admin.end < admin.start:
        return (
            admin.start,
            f"{admin.agent} administration ends before it starts: counted at its start",
        )
    else:
        end = admin.end
        if following is not None and following <= end + ctx.options.infusion_gap:
            end = following  # superseded by a rate change, or a charting gap bridged
    return min(end, limit), None


def pieces_of(
    administrations: Sequence[VasopressorAdministration], ctx: Context, gaps: Gaps
) -> list[Piece]:
    """Step 1: constant-rate pieces since day 0 (administrations sorted by start, reference)."""
    by_agent: dict[Vasopressor, list[VasopressorAdministration]] = {}
    for admin in administrations:
        by_agent.setdefault(admin.agent, []).append(admin)
    pieces: list[Piece] = []
    for agent in sorted(by_agent):
        sequence = by_agent[agent]
        for index, admin in enumerate(sequence):
            following = sequence[index + 1].start if index + 1 < len(sequence) else None
            if following == admin.start:
                continue  # a record of the same start supersedes this one entirely
            end, end_gap = _end(admin, following, ctx)
            if end < ctx.since:
                continue
            if admin.rate is not None and admin.rate.value <= 0:
                continue  # rate 0: the drip is stopped
            dose, weight_reference, dose_gap = convert_dose(admin, ctx.weight)
            for gap in (end_gap, dose_gap):
                if gap is not None:
                    gaps.add(gap)
            charted = None
            if weight_reference is not None and admin.rate is not None:
                charted = f"{format_number(admin.rate.value)} {admin.rate.basis}"
            pieces.append(
                Piece(agent, admin.start, end, dose, admin.reference, weight_reference, charted)
            )
    return pieces


def segments_of(pieces: Sequence[Piece]) -> list[Segment]:
    """Step 2: sweep the pieces into segments (instants for point-in-time pieces)."""
    starts: dict[datetime, list[Piece]] = {}
    ends: dict[datetime, list[Piece]] = {}
    points: dict[datetime, list[Piece]] = {}
    for piece in pieces:
        if piece.end > piece.start:
            starts.setdefault(piece.start, []).append(piece)
            ends.setdefault(piece.end, []).append(piece)
        else:
            points.setdefault(piece.start, []).append(piece)
    times = sorted(starts.keys() | ends.keys() | points.keys())
    running: dict[Vasopressor, Piece] = {}
    segments: list[Segment] = []
    for index, time in enumerate(times):
        for piece in ends.get(time, ()):
            if running.get(piece.agent) is piece:
                del running[piece.agent]
        for piece in starts.get(time, ()):
            running[piece.agent] = piece
        if time in points:
            at_once = {piece.agent: piece for piece in points[time]} | running
            segments.append(Segment(time, time, tuple(at_once[a] for a in sorted(at_once))))
        if running and index + 1 < len(times):
            ordered = tuple(running[a] for a in sorted(running))
            segments.append(Segment(time, times[index + 1], ordered))
    return segments


def norepinephrine_equivalent(segment: Segment) -> float:
    """VASST norepinephrine equivalent in ug/min (seed Table 3 footnote); unknown doses add 0,
    so the value is a lower bound."""
    return sum(
        lee2014.NOREPINEPHRINE_EQUIVALENT_FACTOR[piece.agent] * piece.dose
        for piece in segment.pieces
        if piece.dose is not None and piece.agent in lee2014.NOREPINEPHRINE_EQUIVALENT_FACTOR
    )


def high_dose_rows(segment: Segment) -> list[lee2014.HighDoseRow]:
    """The seed Table 3 rows a segment's doses meet (duration aside)."""
    doses = {piece.agent: piece.dose for piece in segment.pieces}
    with_vasopressin = Vasopressor.VASOPRESSIN in doses
    others = sum(1 for agent in doses if agent is not Vasopressor.VASOPRESSIN)
    equivalent = norepinephrine_equivalent(segment)
    fired = []
    for row in lee2014.TABLE_3:
        if row.kind is lee2014.HighDoseKind.AGENT:
            dose = doses.get(row.agent) if row.agent is not None else None
            ok = dose is not None and meets(dose, lee2014.HIGH_DOSE_COMPARISON, row.threshold)
        elif row.kind is lee2014.HighDoseKind.EQUIVALENT_WITH_VASOPRESSIN:
            ok = with_vasopressin and meets(equivalent, lee2014.HIGH_DOSE_COMPARISON, row.threshold)
        else:
            ok = (
                not with_vasopressin
                and others >= 2
                and meets(equivalent, lee2014.HIGH_DOSE_COMPARISON, row.threshold)
            )
        if ok:
            fired.append(row)
    return fired


@dataclass
class _Open:
    criterion: Criterion
    grade: int
    start: datetime
    end: datetime
    evidence: dict[str, None]
    text: str
    severity: float

    def finding(self) -> Finding:
        return Finding(
            self.criterion,
            self.grade,
            self.start,
            self.end,
            tuple(self.evidence),
            self.text,
            self.severity,
        )


@dataclass
class _Merger:
    """Joins a criterion's findings over consecutive segments into one interval finding."""

    found: list[Finding] = field(default_factory=list)
    _open: dict[tuple[object, ...], _Open] = field(default_factory=dict)

    def add(
        self,
        key: tuple[object, ...],
        criterion: Criterion,
        grade: int,
        segment: Segment,
        evidence: tuple[str, ...],
        text: str,
        severity: float = 0.0,
    ) -> None:
        current = self._open.get(key)
        if current is not None and current.end == segment.start:
            current.end = segment.end
            current.evidence.update(dict.fromkeys(evidence))
            if severity > current.severity:
                current.text, current.severity = text, severity
            return
        if current is not None:
            self.found.append(current.finding())
        self._open[key] = _Open(
            criterion, grade, segment.start, segment.end, dict.fromkeys(evidence), text, severity
        )

    def finish(self) -> list[Finding]:
        self.found.extend(current.finding() for current in self._open.values())
        self._open.clear()
        return self.found


def _high_dose_runs(
    segments: Sequence[Segment], rows_of: Sequence[list[lee2014.HighDoseRow]]
) -> tuple[list[Finding], set[int]]:
    """Step 3: runs of high-dose segments held >= 3 h (seed Table 3), and their segments.

    ``rows_of[i]`` holds the Table 3 rows that segment ``i`` meets (``high_dose_rows``).
    """
    findings: list[Finding] = []
    in_runs: set[int] = set()
    run: list[tuple[int, list[lee2014.HighDoseRow]]] = []

    def close() -> None:
        if not run:
            return
        first, last = segments[run[0][0]], segments[run[-1][0]]
        length = last.end - first.start
        if length >= lee2014.HIGH_DOSE_MIN_DURATION:
            in_runs.update(index for index, _ in run)
            evidence = dict.fromkeys(ref for index, _ in run for ref in segments[index].evidence)
            peak = max((segments[i] for i, _ in run), key=norepinephrine_equivalent)
            agents = dict.fromkeys(agent for index, _ in run for agent in segments[index].agents)
            # In clinical words: "norepinephrine 25 ug/min for 5 h"; a combination also gives
            # the norepinephrine equivalent its rows compare.
            doses = " and ".join(p.table_dose_text for p in peak.pieces)
            text = f"{doses} for {format_duration(length)}"
            if len(agents) > 1:
                equivalent = format_number(norepinephrine_equivalent(peak))
                text += f" (norepinephrine equivalent up to {equivalent} ug/min)"
            grade = lee2014.GRADES[Criterion.VASOPRESSOR_HIGH_DOSE][0]
            findings.append(
                Finding(
                    Criterion.VASOPRESSOR_HIGH_DOSE,
                    grade,
                    first.start,
                    last.end,
                    tuple(evidence),
                    text,
                    length.total_seconds(),
                )
            )
        run.clear()

    for index, segment in enumerate(segments):
        if segment.end == segment.start:
            continue  # an instant neither extends nor breaks a run
        rows = rows_of[index]
        if rows and run and segments[run[-1][0]].end == segment.start:
            run.append((index, rows))
        else:
            close()
            if rows:
                run.append((index, rows))
    close()
    return findings, in_runs


def _counted(agents: tuple[Vasopressor, ...], vasopressin_counts: bool) -> list[Vasopressor]:
    return [a for a in agents if vasopressin_counts or a is not Vasopressor.VASOPRESSIN]


def vasopressor_findings(
    administrations: Sequence[VasopressorAdministration], ctx: Context, gaps: Gaps
) -> VasopressorFindings:
    """All Lee and ASTCT vasopressor findings since day 0."""
    admin_gaps = Gaps()
    pieces = pieces_of(administrations, ctx, admin_gaps)
    gaps.extend(admin_gaps.counted("administration"))
    segments = segments_of(pieces)
    rows_of = [high_dose_rows(segment) for segment in segments]  # once per segment
    high_dose, in_runs = _high_dose_runs(segments, rows_of)
    lee, astct = _Merger(), _Merger()
    for index, segment in enumerate(segments):
        agents = segment.agents
        evidence = segment.evidence
        if len(_counted(agents, lee2014.VASOPRESSIN_COUNTS_AS_VASOPRESSOR)) >= 2:
            text = f"{' and '.join(p.dose_text for p in segment.pieces)} at the same time"
            grade = lee2014.GRADES[Criterion.MULTIPLE_VASOPRESSORS][0]
            lee.add(
                ("multiple", agents),
                Criterion.MULTIPLE_VASOPRESSORS,
                grade,
                segment,
                evidence,
                text,
                norepinephrine_equivalent(segment),
            )
        elif index not in in_runs:
            piece = segment.pieces[0]
            if piece.dose is None:
                criterion = Criterion.VASOPRESSOR_UNKNOWN_DOSE
                text = f"one vasopressor: {piece.dose_text}"
            else:
                criterion = Criterion.VASOPRESSOR_LOW_DOSE
                held = ", high dose for less than 3 h" if rows_of[index] else ""
                text = f"one vasopressor: {piece.dose_text}{held}"
            grade = lee2014.GRADES[criterion][0]
            lee.add(
                (criterion, piece.agent),
                criterion,
                grade,
                segment,
                piece.evidence,
                text,
                piece.dose or 0.0,
            )
        counted = _counted(agents, astct2019.VASOPRESSIN_COUNTS_AS_VASOPRESSOR)
        criterion = (
            Criterion.ASTCT_MULTIPLE_VASOPRESSORS
            if len(counted) >= 2
            else Criterion.ASTCT_ONE_VASOPRESSOR
        )
        grade = astct2019.GRADES[criterion][0]
        text = " and ".join(agents) + (" at the same time" if len(agents) >= 2 else "")
        astct.add((criterion, agents), criterion, grade, segment, evidence, text)
    return VasopressorFindings(tuple(pieces), high_dose + lee.finish(), astct.finish())
