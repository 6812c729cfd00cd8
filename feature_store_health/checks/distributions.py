"""Distribution distances with a threshold that knows the row count: pure math, no database.

A day's rows fall into bins (a numeric column's bins fixed at the baseline's quantiles, or a
category column's values, each with a NULL bin and, for numbers, one below and one above the
usual range). Its distance from the baseline is the Hellinger distance H between the day's bin
shares and the baseline's pooled shares. H alone is no verdict: two samples of one distribution
differ by sampling noise alone, and that noise shrinks with the rows (H² ≈ χ²/(8n)). So the
**statistic** is ``s = √(8·n·H² / (1 + n/N))``: about √χ² for a day drawn from the baseline
whatever its n (N: the baseline's rows), and growing with √n for a real shift.

The **threshold** comes from the baseline days themselves: each is scored against the others
(leave one out) at its own row count, and a day is judged by how far its statistic stands above
their median, in units of their spread (1.4826 × MAD), never less than a floor: the
anomalies scheme (SPEC §10), so light and heavy slates and a baseline's own day-to-day movement
set the bar, not a constant tuned on an incident.
"""

from __future__ import annotations

import math
import operator
from typing import Mapping, NamedTuple, Sequence

__all__ = ["BaselineScores", "MAD_TO_SD", "ShareRange", "baseline_scores", "hellinger", "pooled", "share_range",
           "statistic"]

MAD_TO_SD = 1.4826


def pooled(counts: Sequence[Sequence[int]]) -> list[int]:
    """Bin counts summed over days."""
    width = len(counts[0])
    return [sum(column) for column in zip(*counts)] if all(len(day) == width for day in counts) \
        else _pooled_ragged(counts, width)


def _pooled_ragged(counts: Sequence[Sequence[int]], width: int) -> list[int]:
    """Days of other widths than the first: each adds what it has (a day longer than the first
    fails, as an index beyond its bins)."""
    total = [0] * width
    for day in counts:
        for index, count in enumerate(day):
            total[index] += count
    return total


def hellinger(counts: Sequence[int], reference: Sequence[int]) -> float:
    """The Hellinger distance between two count vectors' shares (0: the same, 1: disjoint)."""
    n, m = sum(counts), sum(reference)
    if not n or not m:
        return 0.0
    overlap = sum(math.sqrt(a * b) for a, b in zip(counts, reference)) / math.sqrt(n * m)
    return math.sqrt(max(0.0, 1.0 - overlap))


def statistic(counts: Sequence[int], reference: Sequence[int]) -> float:
    """√(8·n·H²/(1 + n/N)): the distance in units of what sampling alone gives at this row count."""
    n, m = sum(counts), sum(reference)
    if not n or not m:
        return 0.0
    # hellinger's arithmetic, inline (a baseline's leave-one-out scores call this thousands of
    # times a run), step for step so the value is the very same
    overlap = sum(map(math.sqrt, map(operator.mul, counts, reference))) / math.sqrt(n * m)
    distance = math.sqrt(max(0.0, 1.0 - overlap))
    return math.sqrt(8.0 * n * distance * distance / (1.0 + n / m))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


class BaselineScores(NamedTuple):
    """The baseline days' own statistics (leave one out) and what a day is judged against."""

    scores: tuple[float, ...]
    median: float
    spread: float        # 1.4826 × MAD of the scores, never below the floor

    def score(self, value: float) -> float:
        """How far ``value`` stands above the baseline days' statistics, in spreads."""
        return (value - self.median) / self.spread

    def usual_high(self, warning: float) -> float:
        return self.median + warning * self.spread


def baseline_scores(days: Sequence[Sequence[int]], floor: float) -> BaselineScores:
    """Score each baseline day's bin counts against the pool of the others, at its own row count."""
    total = pooled(days)
    scores = []
    for day in days:
        rest = [all_ - own for all_, own in zip(total, day)]
        scores.append(statistic(day, rest))
    middle = _median(scores)
    spread = MAD_TO_SD * _median([abs(score - middle) for score in scores])
    return BaselineScores(tuple(scores), middle, max(spread, floor))


class ShareRange(NamedTuple):
    share: float        # the baseline's pooled share, %
    low: float          # the expected range of a day at the day's row count, %
    high: float


def share_range(days: Sequence[tuple[int, int]], rows: int, spreads: float = 3.0) -> ShareRange:
    """A bin's expected share of ``rows`` rows from the baseline days' (count, rows): the pooled
    share ± ``spreads`` × √(sampling variance at ``rows`` + the days' variation beyond sampling)."""
    count = sum(part for part, _ in days)
    whole = sum(total for _, total in days)
    share = count / whole if whole else 0.0
    own = [part / total for part, total in days if total]
    sampling = [share * (1 - share) / total for _, total in days if total]
    between = 0.0
    if len(own) > 1:
        mean = sum(own) / len(own)
        variance = sum((value - mean) ** 2 for value in own) / (len(own) - 1)
        between = max(0.0, variance - sum(sampling) / len(sampling))
    sd = math.sqrt(share * (1 - share) / max(rows, 1) + between)
    return ShareRange(100 * share, max(0.0, 100 * (share - spreads * sd)), min(100.0, 100 * (share + spreads * sd)))


def shares(counts: Sequence[int]) -> list[float]:
    """Counts as % of their total."""
    total = sum(counts)
    return [100.0 * count / total if total else 0.0 for count in counts]


def worst_bins(counts: Sequence[int], reference: Sequence[int]) -> list[int]:
    """Bin indexes by how much of the distance each carries, most first."""
    n, m = sum(counts) or 1, sum(reference) or 1
    carried = [(math.sqrt(a / n) - math.sqrt(b / m)) ** 2 for a, b in zip(counts, reference)]
    return sorted(range(len(counts)), key=lambda index: -carried[index])


def day_counts(values: Mapping[str, object], name: str) -> list[int] | None:
    found = values.get(name)
    if found is None or not isinstance(found, (list, tuple)):
        return None
    return [int(count or 0) for count in found]
