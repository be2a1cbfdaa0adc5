"""Directed shiftmax rows that a streaming unit with a shifted running sum would get wrong.

numpy only. A streaming shiftmax sees a row beat by beat and cannot know the maximum before
the last beat. The tempting design keeps a running maximum M and a running sum S of
``2**(2e - (M - x))`` and, when a beat brings a new maximum M', shifts the sum right by
``M' - M`` (:func:`naive_exp_sum` models it). That shift floors the *sum* of terms that the
exact rule floors one by one: two terms that fall below the cut-off together (each worth
half a unit after the shift) are dropped by the exact sum but leave a 1 in the shifted one.
So the shifted sum is never below the exact one and can be above it, and where the exact
sum sits at ``T[k] - 1`` (just below a round_log2 threshold) one unit more moves R, and
every output, by a factor of two.

:func:`threshold_crossing_rows` constructs such rows from
``shiftmax.golden.round_log2_thresholds``: an exact sum of ``T[k] - 1`` whose shifted running
sum reaches ``T[k]``, and, as companions, an exact sum of ``T[k]`` whose shifted running sum
is ``T[k] + 1`` (the same R: a running sum only errs upwards, so from ``T[k]`` it cannot cross).
"""

from __future__ import annotations

import numpy as np

from shiftmax.golden import (
    FixedPoint,
    exp_sum,
    exp_terms,
    floor_input,
    round_log2,
    round_log2_thresholds,
)

__all__ = ["naive_exp_sum", "naive_round_log2", "exact_exp_sum", "threshold_crossing_rows"]


def exact_exp_sum(shape, inputs: np.ndarray) -> np.ndarray:
    """The golden exponent sum S of each row of raw ``inputs`` (rows x n), clamped."""
    floored = floor_input(FixedPoint(inputs, shape.value_bits, shape.frac_bits))
    d = floored.max(axis=-1, keepdims=True) - floored
    return exp_sum(exp_terms(d, shape.exp_bitwidth), shape.buffer_bitwidth)


def naive_exp_sum(shape, inputs: np.ndarray) -> np.ndarray:
    """The exponent sum of a running maximum and a running sum shifted on each new maximum.

    Beat by beat (``shape.lanes_per_beat`` lanes each): the beat's own maximum m and exact
    sum s of ``2**(2e - (m - x))``; then ``M' = max(M, m)`` and
    ``S = min(S >> (M' - M) + s >> (M' - m), 2**(B-1) - 1)``. A wrong design, kept as a model
    so that tests can show which rows tell it apart from the exact sum.
    """
    floored = floor_input(FixedPoint(inputs, shape.value_bits, shape.frac_bits))
    floored = np.asarray(floored, dtype=np.int64)
    p, e = shape.lanes_per_beat, shape.exp_bitwidth
    limit = (1 << (shape.buffer_bitwidth - 1)) - 1
    running_max = running_sum = None
    for low in range(0, floored.shape[-1], p):
        beat = floored[..., low:low + p]
        beat_max = beat.max(axis=-1)
        beat_sum = exp_terms(beat_max[..., np.newaxis] - beat, e).sum(axis=-1, dtype=np.int64)
        if running_max is None:
            running_max, running_sum = beat_max, np.minimum(beat_sum, limit)
            continue
        new_max = np.maximum(running_max, beat_max)
        # Shifts of 63 or more give 0 (the sums are below 2**62).
        old = np.right_shift(running_sum, np.minimum(new_max - running_max, 63))
        new = np.right_shift(beat_sum, np.minimum(new_max - beat_max, 63))
        running_max, running_sum = new_max, np.minimum(old + new, limit)
    return running_sum


def naive_round_log2(shape, inputs: np.ndarray) -> np.ndarray:
    """R of each row as the shifted running sum would round it."""
    return round_log2(naive_exp_sum(shape, inputs), shape.round_log2)


def _raw(shape, floored: int) -> int | None:
    """A raw input whose floored value is ``floored`` (one scalar frac_bits), or None."""
    frac = int(shape.frac_bits)
    if frac >= 0:
        raw = floored << frac
    elif floored % (1 << -frac):
        return None
    else:
        raw = floored >> -frac
    return raw if shape.input_low <= raw <= shape.input_high else None


def _row(shape, target: int, top: int, bottom: int) -> list[int] | None:
    """Raw inputs whose exact sum is ``target`` and whose shifted running sum is one more.

    Floored values, relative to the row's maximum ``top``: first an element A at distance
    delta >= 1 (it holds the highest set bit of the target below ``2**(2e)``) and two
    elements at distance ``2e + 1`` (zero terms of the exact sum, but ``2**(delta - 1)``
    each while A is the running maximum), then, from the next beat on, the maxima and one
    element per remaining set bit; every other lane holds ``bottom``, beyond every cut-off.
    """
    e2 = 2 * shape.exp_bitwidth
    n, p = shape.n, shape.lanes_per_beat
    maxima, rest = target >> e2, target & ((1 << e2) - 1)
    early = []  # distances from the final maximum
    if rest:
        j = rest.bit_length() - 1
        early.append(e2 - j)
        rest -= 1 << j
    elif maxima >= 2:
        early += [1, 1]  # one maximum's worth as two halves, both ahead of the maximum
        maxima -= 1
    else:
        return None
    early += [e2 + 1, e2 + 1]
    late = [0] * maxima + [e2 - j for j in range(e2) if rest >> j & 1]
    start = p * ((len(early) - 1) // p + 1)  # the first lane of the next beat
    if start + len(late) > n or top - (e2 + 1) < bottom:
        return None
    distances = early + [None] * (start - len(early)) + late
    distances += [None] * (n - len(distances))
    row = []
    for d in distances:
        raw = _raw(shape, bottom if d is None else top - d)
        if raw is None:
            return None
        row.append(raw)
    return row


def threshold_crossing_rows(shape) -> tuple[np.ndarray, list[int]]:
    """Rows (raw inputs, rows x n) at ``T[k] - 1`` and ``T[k]`` for every reachable binade k
    of ``shape.round_log2``'s table, and the target sum of each.

    Every ``T[k] - 1`` row is one whose shifted running sum (:func:`naive_exp_sum`, beats of
    ``shape.lanes_per_beat`` lanes) reaches ``T[k]`` and so rounds to ``k + 1`` instead of
    ``k``; each ``T[k]`` companion has a shifted running sum of ``T[k] + 1``. The rows are
    checked against both models before they are returned. A one-beat unit (P = n), a target
    that needs more lanes than n, or per-lane ``frac_bits`` give no row.

    ``shape``: a :class:`~shiftmax.sim.framing.RowShape` (or anything with its attributes
    ``n``, ``lanes_per_beat``, ``value_bits``, ``frac_bits``, ``exp_bitwidth``,
    ``buffer_bitwidth``, ``round_log2``, ``input_low``, ``input_high``).
    """
    if shape.lanes_per_beat >= shape.n or np.ndim(shape.frac_bits) != 0:
        return np.zeros((0, shape.n), dtype=np.int64), []
    e2 = 2 * shape.exp_bitwidth
    limit = (1 << (shape.buffer_bitwidth - 1)) - 1
    table = round_log2_thresholds(shape.round_log2)
    ends = floor_input(FixedPoint([shape.input_low, shape.input_high], shape.value_bits,
                                  shape.frac_bits))
    bottom, top = int(ends[0]), int(ends[1])
    rows, targets = [], []
    for k in range(e2, len(table)):
        threshold = int(table[k])
        if threshold > min(limit, shape.n << e2):
            break
        for target in (threshold - 1, threshold):
            if target < 1 << e2:
                continue
            row = _row(shape, target, top, bottom)
            if row is not None:
                rows.append(row)
                targets.append(target)
    if not rows:
        return np.zeros((0, shape.n), dtype=np.int64), []
    rows = np.array(rows, dtype=np.int64)
    exact, naive = exact_exp_sum(shape, rows), naive_exp_sum(shape, rows)
    good = (exact == np.array(targets)) & (naive == exact + 1)
    return rows[good], [t for t, g in zip(targets, good, strict=True) if g]
