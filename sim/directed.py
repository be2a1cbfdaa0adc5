"""Directed rows that put every compare of the hardware on both of its sides.

numpy only (no cocotb, no Amaranth). The compares, and where each one decides:

- ``RoundLog2`` (``hw/round_log2.py``): binade ``k`` of the sum ``S`` rounds up when
  ``S >= T[k]``. The hardware compares only the field ``V = S[z:k]`` (``z``: the trailing
  zeros of ``T[k] - 2**k``, or the low term bits a one-beat shiftmax leaves out,
  ``shiftmax.golden.term_precision``, if more) with ``C = ceil((T[k] - 2**k) / 2**z)``, and
  in a pipelined design splits
  a wide compare in two: the upper part ``U = V >> h`` against ``C_hi`` (``>`` and ``==``) and
  the lower part ``L = V & (2**h - 1)`` against ``C_lo`` (``>=``), with ``h = (k - z) // 2``.
  A wrong constant in any of these changes the result only for sums in a narrow interval:
  ``V = C`` or ``C - 1`` (whole compare, or ``U = C_hi`` and ``L = C_lo`` / ``C_lo - 1``);
  ``U = C_hi + 1`` with ``L`` below ``C_lo`` (the ``>`` alone decides); ``U = C_hi - 1`` with
  ``L`` at or above ``C_lo`` (an ``==`` one too low would round up); and, for an inverted
  ``==``, ``U`` further off (``C_hi +- 2``, 0 and its largest value) with ``L`` on either
  side. Each such interval is a :class:`CompareTarget`.
- The leading-one detector: the binade edges ``2**k`` and the largest sum below them.
- The saturating adder tree: sums just below, at and above ``2**(B-1) - 1``.
- The argmax tree (and any compare network over lanes): every pair of lanes equal, one
  above and one below, at both ends of the input range.
- The saturation of ``Distance`` (``hw/distance.py``): a lane's difference keeps its low
  ``b`` bits (:func:`distance_widths`) and one OR per kept bit ``k`` of the dropped bits
  forces it to ones. Stuck at 0, that OR lets a lane at a distance ``D >= 2**b`` with bit
  ``k`` clear read ``2**b - 1 - 2**k``; when that is at most ``2e``, the lane gains a term
  (:func:`saturation_bits`), shown by a lane-term sum whose deciding lane sits at ``D``
  instead (:func:`saturation_distances`).

A sum is reachable only as ``m * 2**(2e) + r`` with ``m >= 1`` lanes at the maximum and one
more lane per set bit of ``r`` (``m + popcount(r) <= n``), so a target interval is met by its
smallest and its largest reachable sum; an interval with none is unreachable, and a wrong
constant that only it could reveal cannot change any output of that configuration.

The targets are derived from ``shiftmax.golden.round_log2_thresholds``, the same table the
hardware is generated from, so a constant that differs from the golden table is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shiftmax.golden import round_log2_thresholds
from shiftmax.golden.term_precision import unneeded_term_bits

if TYPE_CHECKING:  # sim.vectors calls compare_rows: import it lazily, not at module level
    from .vectors import UnitShape

__all__ = ["CompareTarget", "compare_targets", "compare_field", "compare_rows", "target_sums",
           "sum_cost", "reachable_sums", "register_pairs", "lane_term_distances",
           "SaturationBit", "distance_widths", "saturation_bits", "saturation_distances",
           "SPLIT_COMPARE_BITS"]

#: The width from which a pipelined RoundLog2 splits a threshold compare in two halves
#: (``shiftmax.hw.round_log2.SPLIT_COMPARE_BITS``, repeated so that this module needs no
#: Amaranth; tests/test_directed_compares.py checks that the two agree).
SPLIT_COMPARE_BITS = 12


@dataclass(frozen=True)
class CompareTarget:
    """An interval of exponent sums ``[low, high]`` on one side of one hardware compare.

    ``name`` says which compare and which side (``"k=21 upper>C_hi: U=C_hi+1, L<C_lo"``);
    ``sums`` are the reachable sums chosen in it (its smallest and largest), empty when no
    sum of this configuration lies in the interval.
    """

    name: str
    low: int
    high: int
    sums: tuple[int, ...]

    @property
    def reachable(self) -> bool:
        return bool(self.sums)


def sum_cost(total: int, exp_bitwidth: int) -> int:
    """Fewest lanes whose exponent terms (powers of two up to ``2**(2e)``) add to ``total``."""
    two_e = 2 * exp_bitwidth
    return (total >> two_e) + bin(total & ((1 << two_e) - 1)).count("1")


def _smallest_reachable(low: int, high: int, lanes: int, exp_bitwidth: int) -> int | None:
    """The smallest sum in ``[low, high]`` that at most ``lanes`` terms make, or None."""
    total = max(low, 1 << (2 * exp_bitwidth))
    while total <= high and sum_cost(total, exp_bitwidth) > lanes:
        total += total & -total  # round up at the lowest set bit: never more set bits
    return total if total <= high else None


def _largest_reachable(low: int, high: int, lanes: int, exp_bitwidth: int) -> int | None:
    """The largest sum in ``[low, high]`` that at most ``lanes`` terms make, or None."""
    two_e = 2 * exp_bitwidth
    full = high >> two_e
    if full > lanes:
        total = lanes << two_e
    else:
        # Keep the highest set bits of the remainder that the remaining lanes can make.
        rest, kept = high & ((1 << two_e) - 1), 0
        for bit in range(two_e - 1, -1, -1):
            if rest >> bit & 1 and bin(kept).count("1") < lanes - full:
                kept |= 1 << bit
        total = (full << two_e) | kept
    return total if max(low, 1 << two_e) <= total <= high else None


def _sum_limits(shape: UnitShape) -> tuple[int, int]:
    """The largest exponent sum the lanes can make, and the clamp ``2**(B-1) - 1``."""
    return shape.n << (2 * shape.exp_bitwidth), (1 << (shape.buffer_bitwidth - 1)) - 1


def compare_field(shape: UnitShape, k: int, offset: int) -> tuple[int, int, int] | None:
    """``(z, C, width)`` of binade ``k``'s compare ``S[z:k] >= C`` as ``hw/round_log2.py``
    builds it for ``S >= 2**k + offset``, or None when the binade has no compare."""
    if not 0 < offset < 1 << k:
        return None  # the binade always or never rounds up
    one_beat = shape.params.get("lanes_per_beat") in (None, shape.n)
    dropped = unneeded_term_bits(shape.n, shape.exp_bitwidth, shape.buffer_bitwidth,
                                 shape.round_log2) if one_beat else 0
    zeros = max((offset & -offset).bit_length() - 1, dropped)
    constant = -(-offset >> zeros)
    return None if constant >> (k - zeros) else (zeros, constant, k - zeros)


def _intervals(shape: UnitShape) -> list[tuple[str, int, int]]:
    """Every (name, low, high) interval of sums that a compare splits, before reachability."""
    e = shape.exp_bitwidth
    largest, clamp = _sum_limits(shape)
    top = min(largest, clamp)
    table = round_log2_thresholds(shape.round_log2)
    intervals = []
    for k in range(2 * e, min(len(table), top.bit_length())):
        base = 1 << k
        intervals.append((f"k={k} leading one: S = 2**k..", base, 2 * base - 1))
        field_of = compare_field(shape, k, int(table[k]) - base)
        if field_of is None:
            continue
        zeros, constant, width = field_of
        span = (1 << zeros) - 1  # the dropped low bits take any value

        def field(first: int, last: int, base=base, zeros=zeros, span=span):
            return base + (first << zeros), base + (last << zeros) + span

        intervals.append((f"k={k} S>=T: V=C", *field(constant, constant)))
        intervals.append((f"k={k} S>=T: V=C-1", *field(constant - 1, constant - 1)))
        intervals.append((f"k={k} S>=T: V>C", *field(constant + 1, (1 << width) - 1)))
        intervals.append((f"k={k} S>=T: V<C-1", *field(0, constant - 2)))
        half = width // 2
        if half < 1:
            continue
        high_c, low_c = constant >> half, constant & ((1 << half) - 1)
        low_max = (1 << half) - 1
        upper_max = (1 << (width - half)) - 1
        uppers = {}  # the three next to C_hi, then two further out and both ends
        for upper, label in ((high_c + 1, "C_hi+1"), (high_c, "C_hi"), (high_c - 1, "C_hi-1"),
                             (high_c + 2, "C_hi+2"), (high_c - 2, "C_hi-2"), (0, "0"),
                             (upper_max, "max")):
            if 0 <= upper <= upper_max:
                uppers.setdefault(upper, label)
        for upper, label in uppers.items():
            first = upper << half
            sides = [("L<C_lo", 0, low_c - 1), ("L>=C_lo", low_c, low_max)]
            if upper == high_c:
                sides += [("L=C_lo", low_c, low_c), ("L=C_lo-1", low_c - 1, low_c - 1),
                          ("L=C_lo+1", low_c + 1, low_c + 1)]
            for side, lo, hi in sides:
                if 0 <= lo <= hi <= low_max:
                    intervals.append((f"k={k} split: U={label}, {side}",
                                      *field(first + lo, first + hi)))
    if largest >= clamp:
        intervals += [("clamp: S < 2**(B-1)-1", 1 << (2 * e), clamp - 1),
                      ("clamp: S = 2**(B-1)-1", clamp, clamp),
                      ("clamp: S > 2**(B-1)-1", clamp + 1, largest)]
    return intervals


def compare_targets(shape: UnitShape) -> list[CompareTarget]:
    """The sum intervals of every compare of a shiftmax unit, with the sums chosen in each.

    Empty for other units (their compares are between lanes: see :func:`compare_rows`).
    """
    if shape.unit != "shiftmax":
        return []
    e, n = shape.exp_bitwidth, shape.n
    largest, _ = _sum_limits(shape)
    targets = []
    for name, low, high in _intervals(shape):
        high = min(high, largest)
        chosen = {_smallest_reachable(low, high, n, e), _largest_reachable(low, high, n, e)}
        chosen.discard(None)
        targets.append(CompareTarget(name, low, high, tuple(sorted(chosen))))
    return targets


def _field_sum(shape: UnitShape, first: int, last: int, low: int, high: int) -> int | None:
    """A reachable sum whose bits ``[first:last)`` lie in ``[low, high]`` (other bits free),
    with as few lanes as the search finds; None when there is none."""
    e, n = shape.exp_bitwidth, shape.n
    largest, _ = _sum_limits(shape)
    value = low
    while value + (value & -value) <= high and value:
        value += value & -value  # the value in range with the most trailing zeros
    for top in range((largest >> last) + 1):
        total = (top << last) | (value << first)
        if total >= 1 << (2 * e) and total <= largest and sum_cost(total, e) <= n:
            return total
    return None


def register_pairs(shape: UnitShape) -> list[tuple[int, int]]:
    """Pairs of sums ``(A, B)`` for rows sent back to back: A in binade ``k`` does not round
    up, but would if one registered half of its split compare were taken from B instead (a
    pipeline register of RoundLog2 bypassed or clocked a cycle off). Per split binade: B's
    upper part equal to ``C_hi`` (the ``==`` register), above it (the ``>`` register), and
    B's lower part at or above ``C_lo`` after an A whose upper part is ``C_hi`` (the ``>=``
    register)."""
    if shape.unit != "shiftmax":
        return []
    table = round_log2_thresholds(shape.round_log2)
    by_name = {t.name: t for t in compare_targets(shape)}
    pairs = []
    for k in range(2 * shape.exp_bitwidth, 64):
        if f"k={k} leading one: S = 2**k.." not in by_name:
            break
        field_of = compare_field(shape, k, int(table[k]) - (1 << k))
        if field_of is None:
            continue
        zeros, constant, width = field_of
        half = width // 2
        high_c, low_c = constant >> half, constant & ((1 << half) - 1)
        upper_max, middle = (1 << (width - half)) - 1, zeros + half

        def first_sum(*names, k=k):
            for name in names:
                target = by_name.get(f"k={k} split: {name}")
                if target is not None and target.sums:
                    return target.sums[0]
            return None

        not_up_low_above = first_sum("U=C_hi-1, L>=C_lo", "U=C_hi-2, L>=C_lo", "U=0, L>=C_lo")
        not_up_upper_equal = first_sum("U=C_hi, L<C_lo")
        not_up_below = first_sum("U=C_hi, L<C_lo", "U=C_hi-1, L<C_lo", "U=0, L<C_lo")
        wanted = [(not_up_low_above, (middle, k, high_c, high_c)),
                  (not_up_below, (middle, k, high_c + 1, upper_max)),
                  (not_up_upper_equal, (zeros, middle, low_c, (1 << half) - 1))]
        for first, (lo_bit, hi_bit, low, high) in wanted:
            if first is None or low > high:
                continue
            second = _field_sum(shape, lo_bit, hi_bit, low, high)
            if second is not None:
                pairs.append((first, second))
    return pairs


def _lane_terms(shape: UnitShape) -> list[tuple[int, list[int | None]]]:
    """``(j, distances)`` of every :func:`lane_term_distances` row, ``j`` its deciding term."""
    if shape.unit != "shiftmax":
        return []
    two_e, n = 2 * shape.exp_bitwidth, shape.n
    largest, clamp = _sum_limits(shape)
    table = round_log2_thresholds(shape.round_log2)
    found = []
    for k in range(two_e, min(len(table), min(largest, clamp).bit_length())):
        threshold = int(table[k])
        if not 1 << k < threshold < 1 << (k + 1):
            continue  # the binade always or never rounds up: no compare
        for j in range(two_e):
            total = -(-threshold >> j) << j
            if total > min(largest, clamp) or total >> (k + 1):
                continue
            rest = total & ((1 << two_e) - 1)
            terms = [b for b in range(two_e) if rest >> b & 1]
            if j not in terms:
                above = [b for b in terms if b > j]
                if not above:
                    continue  # the term would come from a maximum lane: no such distance
                lowest = min(above)
                terms.remove(lowest)
                terms += list(range(j, lowest)) + [j]
            distances = [0] * (total >> two_e) + [two_e - b for b in sorted(terms, reverse=True)]
            if len(distances) <= n:
                found.append((j, distances + [None] * (n - len(distances))))
    return found


def lane_term_distances(shape: UnitShape) -> list[list[int | None]]:
    """Per rounding binade ``k`` and per term ``2**j`` (a lane at distance ``2e - j``), the
    lane distances of a sum ``S`` at or above ``T[k]`` by less than ``2**j`` that has that
    term: without it ``S`` would round down, so a lane whose term is wrong at that distance
    (a wrong decoder of its distance) changes the output. ``S`` is ``T[k]`` rounded up to a
    multiple of ``2**j``; when its bit ``j`` is clear, its lowest set bit is split into
    ``2**(b-1) + .. + 2**j + 2**j``, one lane per term. Lanes beyond the cut-off: None.
    Sums that take more than n lanes are left out."""
    return [distances for _, distances in _lane_terms(shape)]


@dataclass(frozen=True)
class SaturationBit:
    """One saturation OR of ``Distance``: the OR of a lane's dropped difference bits that
    forces its kept bit ``bit`` to one.

    ``distance`` is what the lane reads with that OR stuck at 0 at a distance ``D >= 2**b``
    whose bit ``bit`` is clear: ``2**b - 1 - 2**bit``. ``term``: that distance is at most
    ``2e``, so the lane gains an exponent term; otherwise the stuck OR changes no output
    (every distance beyond ``2e`` has the term 0: the mutant is equivalent).
    """

    bit: int
    distance: int
    term: bool


def distance_widths(shape: UnitShape) -> tuple[int, int]:
    """``(w, b)``: the bits of a floored lane, sign included (``hw/floor_input.py``'s
    ``floored_bits``), and of a saturated distance, which holds ``min(2**w - 1, 2e + 1)``
    (``hw/distance.py``'s ``distance_bits``). Repeated so that this module needs no Amaranth;
    tests/test_directed_saturation.py checks that they agree."""
    vb = shape.value_bits
    fracs = np.broadcast_to(np.asarray(shape.frac_bits), (shape.n,))
    width = max(max(vb - int(f), 0) + 1 if f >= 0 else vb + 1 for f in fracs)
    return width, max(1, min((1 << width) - 1, 2 * shape.exp_bitwidth + 1).bit_length())


def saturation_bits(shape: UnitShape) -> list[SaturationBit]:
    """Every saturation OR of a shiftmax's ``Distance``, lowest kept bit first; empty when a
    difference never exceeds the saturated width (no ORs) or for other units. (A most
    pipelined design that passes the raw differences on has no ORs: its rows still hold.)"""
    if shape.unit != "shiftmax":
        return []
    width, bits = distance_widths(shape)
    if width <= bits:
        return []
    ones = (1 << bits) - 1
    return [SaturationBit(k, ones - (1 << k), ones - (1 << k) <= 2 * shape.exp_bitwidth)
            for k in range(bits)]


def _far_distances(shape: UnitShape, bit: int, count: int = 8) -> list[int]:
    """Distances beyond the saturated width with bit ``bit`` clear, ``2**b`` first."""
    width, bits = distance_widths(shape)
    found = []
    for distance in range(1 << bits, 1 << width):
        if not distance >> bit & 1:
            found.append(distance)
            if len(found) == count:
                break
    return found


def saturation_distances(shape: UnitShape) -> list[tuple[SaturationBit, int, list[int | None]]]:
    """``(bit, lane, distances)`` per saturation OR with a term and per lane-term sum decided
    by a lane at that OR's stuck distance (:func:`lane_term_distances`, term ``2**j`` with
    ``j = 2e - distance``): the deciding lane ``lane`` moved to distance ``2**b``. Without
    its term the sum rounds down, as the right design computes it; with that OR stuck at 0
    the lane reads ``2**b - 1 - 2**k``, keeps its term, and the row rounds up."""
    two_e = 2 * shape.exp_bitwidth
    found = []
    for saturation in saturation_bits(shape):
        if not saturation.term:
            continue
        far = _far_distances(shape, saturation.bit, 1)[0]
        for j, distances in _lane_terms(shape):
            if j == two_e - saturation.distance:
                lane = distances.index(saturation.distance)
                moved = list(distances)
                moved[lane] = far
                found.append((saturation, lane, moved))
    return found


def target_sums(shape: UnitShape) -> list[int]:
    """Every sum chosen by :func:`compare_targets`, sorted, without repeats."""
    return sorted({s for target in compare_targets(shape) for s in target.sums})


def _pair_rows(shape: UnitShape) -> list[np.ndarray]:
    """Two lanes equal, one above, one below (at both ends of the range), the rest minimal.

    Every pair of lanes when n <= 32, at both ends of the range and in the middle. Beyond
    that (a few hundred rows instead of n**2), the middle of the range only, for the pairs
    around every power of two: lane 0 with lanes ``2**m`` and the last lane, lanes
    ``2**m - 1`` with ``2**m`` and the two halves' edges."""
    n, low, high = shape.n, shape.input_low, shape.input_high
    if n < 2:
        return []
    middle = (low + high) // 2
    if n <= 32:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
        levels = sorted({low + 1, middle, high - 1})
    else:
        powers = [1 << m for m in range((n - 1).bit_length())]
        pairs = sorted({(0, p) for p in powers} | {(p - 1, p) for p in powers}
                       | {(0, n - 1), (n // 2 - 1, n // 2), (n - 2, n - 1)})
        levels = [middle]
    values = [(a, b) for a in levels for b in (a, a + 1, a - 1)] + [(low, high), (high, low)]
    rows = []
    for i, j in pairs:
        for a, b in values:
            row = np.full(n, low, dtype=np.int64)
            row[i], row[j] = a, b
            rows.append(row)
    return rows


def compare_rows(shape: UnitShape) -> np.ndarray:
    """Raw input rows (rows x n, int64) that put every compare of the unit on both sides.

    shiftmax: one row per sum of :func:`target_sums`, built lane by lane, rotated so that
    the maximum lanes sit at every lane (n <= 16), and reversed (every n); a sum
    whose lanes the input format cannot express (narrow inputs, per-lane frac_bits) is left
    out, and with per-lane frac_bits the rows are not moved. Then the rows of
    :func:`lane_term_distances` and of :func:`saturation_distances`, each at every lane
    (n <= 16), and the pairs of :func:`register_pairs`. argmax, top-K and any other unit:
    :func:`_pair_rows`.
    """
    from .vectors import _row_for_distances, _sum_distances

    if shape.unit != "shiftmax":
        rows = _pair_rows(shape)
    else:
        rows = []
        uniform = shape.n > 1 and np.ndim(shape.frac_bits) == 0
        # The same sum with the maximum lanes moved: every lane once for n <= 16 (a wrong
        # term of one lane shows only where that lane is at the maximum).
        shifts = range(shape.n) if shape.n <= 16 else (0,)
        for total in target_sums(shape):
            distances = _sum_distances(shape, total)
            row = _row_for_distances(shape, distances) if distances else None
            if row is None:
                continue
            row = np.asarray(row, dtype=np.int64)
            if not uniform:
                rows.append(row)
                continue
            rows += [np.roll(row, shift) for shift in shifts]
            rows.append(row[::-1].copy())
        # Each lane's term at every distance on the edge of a threshold, at every lane.
        for distances in lane_term_distances(shape):
            row = _row_for_distances(shape, distances)
            if row is not None:
                row = np.asarray(row, dtype=np.int64)
                rows += [np.roll(row, shift) for shift in shifts] if uniform else [row]
        # A lane beyond the saturated width whose stuck saturation OR would give it the
        # deciding term, at every lane (a distance 2**b, else the next with that bit clear).
        for saturation, lane, distances in saturation_distances(shape):
            for far in _far_distances(shape, saturation.bit):
                row = _row_for_distances(shape, distances[:lane] + [far]
                                         + distances[lane + 1:])
                if row is not None:
                    row = np.asarray(row, dtype=np.int64)
                    rows += [np.roll(row, shift) for shift in shifts] if uniform else [row]
                    break
        # Back to back, in this order: a register of RoundLog2 one cycle off shows here.
        for pair in register_pairs(shape):
            built = [_row_for_distances(shape, _sum_distances(shape, total)) for total in pair]
            if all(row is not None for row in built):
                rows += [np.asarray(row, dtype=np.int64) for row in built]
    if not rows:
        return np.zeros((0, shape.n), dtype=np.int64)
    return np.clip(np.array(rows, dtype=np.int64), shape.input_low, shape.input_high)


def reachable_sums(shape: UnitShape, limit: int = 1 << 24) -> np.ndarray | None:
    """Every exponent sum the arithmetic allows (before the clamp), or None above ``limit``.

    A sum is ``2**(2e)`` (the maximum lane) plus ``n - 1`` terms from ``{0, 1, 2, .., 2**(2e)}``;
    the input format (narrow inputs, frac_bits) may reach fewer. Sorted int64; built with a
    boolean table of ``n * 2**(2e)`` entries, so only for small configurations.
    """
    two_e = 2 * shape.exp_bitwidth
    largest = shape.n << two_e
    if largest > limit:
        return None
    reach = np.zeros(largest + 1, dtype=bool)
    reach[1 << two_e] = True
    for _ in range(shape.n - 1):
        grown = reach.copy()  # the term 0: a lane beyond the cut-off
        for j in range(two_e + 1):
            grown[1 << j:] |= reach[:largest + 1 - (1 << j)]
        reach = grown
    return np.flatnonzero(reach).astype(np.int64)
