"""Input vectors for the regression and their expected outputs from the golden model.

numpy only (no cocotb): the cocotb tests, pytest and the benchmark share these. Every
``ref_...`` function computes with ``shiftmax.golden``, vectorised over all rows at once.

A unit is described by the sidecar JSON's ``unit`` and ``params`` (:class:`UnitShape`); what
a parameter means, its default and the golden function come from the registry
(:mod:`shiftmax.units`).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import numpy as np

from shiftmax import units as registry
from shiftmax.golden import (
    FixedPoint,
    exp_sum,
    exp_terms,
    round_log2_thresholds,
)

__all__ = [
    "UnitShape",
    "ref_outputs",
    "pack_outputs",
    "unpack_outputs",
    "pack_rows",
    "unpack_word",
    "random_inputs",
    "corner_inputs",
    "exhaustive_inputs",
    "reference_inputs",
    "threshold_sums",
]

class UnitShape:
    """The bit layout and arithmetic of one generated unit, read from its sidecar.

    ``params`` are the sidecar's (or any subset: the registry fills in the defaults).
    Attributes: ``unit``, ``entry`` (the registry entry), ``params`` (every parameter),
    ``n``, ``value_bits``, ``frac_bits`` (int or int64 array), ``exp_bitwidth``,
    ``buffer_bitwidth``, ``round_log2``, ``output``, ``input_width`` (bits per input lane),
    ``output_fields`` (``(lanes, width, signed)`` per output field, lowest bits first), and
    for a single-field output ``output_lanes`` and ``output_width``.
    """

    def __init__(self, unit: str, params: Mapping):
        self.entry = registry.unit(unit)
        self.unit = unit
        given = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items()
                 if v is not None and self.entry.has(k)}
        self.params = self.entry.resolve(given)
        self.n = int(self.params["n"])
        self.value_bits = int(self.params["value_bits"])
        self.input_width = self.value_bits + 1
        self.output = self.params.get("output")
        # Units without the shiftmax arithmetic still shape their random rows with its
        # defaults (clustered rows within the 2e cut-off of shiftmax's default e).
        arithmetic = {**registry.UNITS["shiftmax"].defaults(), **self.params}
        frac = arithmetic["frac_bits"]
        self.frac_bits = int(frac) if np.ndim(frac) == 0 else np.asarray(frac, dtype=np.int64)
        self.exp_bitwidth = int(arithmetic["exp_bitwidth"])
        self.buffer_bitwidth = int(arithmetic["buffer_bitwidth"])
        self.round_log2 = arithmetic["round_log2"]
        self.output_fields = self.entry.output_fields(self.params)
        if len(self.output_fields) == 1:
            self.output_lanes, self.output_width = self.output_fields[0][:2]

    @classmethod
    def from_sidecar(cls, sidecar: Mapping) -> UnitShape:
        return cls(sidecar["unit"], sidecar["params"])

    @property
    def input_low(self) -> int:
        return -(1 << self.value_bits)

    @property
    def input_high(self) -> int:
        return (1 << self.value_bits) - 1


def ref_outputs(shape: UnitShape, inputs: np.ndarray, mask: np.ndarray | None = None
                ) -> np.ndarray:
    """The golden outputs of ``inputs`` (rows x n), one row of output lanes per input row
    (the output fields side by side), int64."""
    return shape.entry.reference(shape.params, np.asarray(inputs, dtype=np.int64), mask)


def pack_outputs(shape: UnitShape, values: np.ndarray) -> list[int]:
    """Pack output rows (as :func:`ref_outputs` gives them) into words, field after field."""
    values = np.asarray(values, dtype=np.int64)
    words = [0] * len(values)
    column, offset = 0, 0
    for lanes, width, _signed in shape.output_fields:
        part = pack_rows(values[:, column:column + lanes], width)
        words = [word | (p << offset) for word, p in zip(words, part, strict=True)]
        column, offset = column + lanes, offset + lanes * width
    return words


def unpack_outputs(shape: UnitShape, word: int) -> list[int]:
    """The inverse of :func:`pack_outputs` for one word."""
    values, offset = [], 0
    for lanes, width, signed in shape.output_fields:
        values += unpack_word(word >> offset, lanes, width, signed=signed)
        offset += lanes * width
    return values


def ref_exp_sums(shape: UnitShape, inputs: np.ndarray) -> np.ndarray:
    """The clamped exponent sum S of each row (the value round_log2 sees)."""
    floored = FixedPoint(inputs, shape.value_bits, shape.frac_bits).floor()[0].values
    d = floored.max(axis=-1, keepdims=True) - floored
    return exp_sum(exp_terms(d, shape.exp_bitwidth), shape.buffer_bitwidth)


def pack_rows(values: np.ndarray, width: int) -> list[int]:
    """Pack each row of integers into one word, lane k at bits ``[k*width +: width]``.

    Negative values are written in two's complement; returns one Python int per row.
    """
    values = np.asarray(values, dtype=np.int64)
    rows, lanes = values.shape
    unsigned = values & ((1 << width) - 1)
    bits = ((unsigned[:, :, np.newaxis] >> np.arange(width)) & 1).astype(np.uint8)
    packed = np.packbits(bits.reshape(rows, lanes * width), axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]


def unpack_word(word: int, lanes: int, width: int, *, signed: bool = False) -> list[int]:
    """The inverse of :func:`pack_rows` for one word: its lanes as a list of ints."""
    ones = (1 << width) - 1
    values = [(word >> (k * width)) & ones for k in range(lanes)]
    if signed:
        values = [v - (1 << width) if v >> (width - 1) else v for v in values]
    return values


def random_inputs(shape: UnitShape, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` random rows: half uniform over the input range, half clustered near a
    random maximum so that many lanes fall within the 2e cut-off and the sums vary."""
    low, high = shape.input_low, shape.input_high
    uniform = rng.integers(low, high + 1, size=(count - count // 2, shape.n))
    scale = 1 << max(0, int(np.max(shape.frac_bits)))
    spread = (2 * shape.exp_bitwidth + 3) * scale
    centre = rng.integers(low, high + 1, size=(count // 2, 1))
    clustered = np.clip(centre - rng.integers(0, spread, size=(count // 2, shape.n)), low, high)
    rows = np.concatenate([uniform, clustered])
    return rows[rng.permutation(len(rows))].astype(np.int64)


def exhaustive_inputs(shape: UnitShape, limit: int) -> np.ndarray | None:
    """Every possible input row, or None when there are more than ``limit``."""
    if shape.input_width * shape.n > 62 or (1 << (shape.input_width * shape.n)) > limit:
        return None
    lane = np.arange(shape.input_low, shape.input_high + 1, dtype=np.int64)
    grids = np.meshgrid(*([lane] * shape.n), indexing="ij")
    return np.stack([g.reshape(-1) for g in grids], axis=1)


def threshold_sums(shape: UnitShape) -> list[int]:
    """The sums to aim at: ``T[k]`` and ``T[k] - 1`` of both round_log2 tables, for every k
    a sum of this configuration can reach, and the clamp limit ``2**(B-1) - 1`` with its
    neighbours."""
    e, b = shape.exp_bitwidth, shape.buffer_bitwidth
    top = min(shape.n << (2 * e), (1 << (b - 1)) - 1)
    targets = set()
    for mode in ("exact", "quantizeml"):
        table = round_log2_thresholds(mode)
        for k in range(2 * e, min(len(table), top.bit_length())):
            targets.update({int(table[k]), int(table[k]) - 1})
    limit = (1 << (b - 1)) - 1
    targets.update({limit - 1, limit, limit + 1})
    return sorted(t for t in targets if 1 << (2 * e) <= t)


def corner_inputs(shape: UnitShape, rng: np.random.Generator) -> np.ndarray:
    """Directed corners: all-min, all-max, saturating inputs, ties, the 2e cut-off, and rows
    whose exponent sum lands on (or just below) every reachable round_log2 threshold.

    For shiftmax the threshold rows are constructed, not searched: a sum S is
    ``m * 2**(2e) + r`` with ``m`` lanes at the maximum and one lane per set bit of ``r``;
    where a threshold needs more lanes than there are, the nearest reachable sums on either
    side stand in. Rows whose lanes cannot be built (per-lane frac_bits, narrow inputs) are
    left out; :func:`ref_exp_sums` tells which sums were hit.
    """
    n, low, high = shape.n, shape.input_low, shape.input_high
    rows = [np.full(n, low), np.full(n, high), np.full(n, 0), np.full(n, -1)]
    alternating = np.where(np.arange(n) % 2 == 0, high, low)
    rows += [alternating, alternating[::-1]]
    # Ties between the largest lanes at both ends, and a single maximum at each lane edge.
    for position in {0, n - 1, n // 2}:
        row = np.full(n, low)
        row[position] = high
        rows.append(row)
        tie = rng.integers(low, high, size=n)
        tie[[0, position, n - 1]] = high
        rows.append(tie)
    if shape.unit == "shiftmax":
        rows += _cutoff_rows(shape)
        rows += _threshold_rows(shape)
    from .directed import compare_rows  # both sides of every compare; imports this module
    rows += list(compare_rows(shape))
    return np.clip(np.array(rows, dtype=np.int64), low, high)


def _raw_for_floored(shape: UnitShape, lane: int, floored: int) -> int | None:
    """A raw input whose floored, clamped value in ``lane`` is ``floored``, or None."""
    frac = int(shape.frac_bits if np.ndim(shape.frac_bits) == 0 else shape.frac_bits[lane])
    low, high = shape.input_low, shape.input_high
    if frac >= 0:
        raw = floored << frac
        return raw if low <= raw <= high else None
    if floored in (low, high):  # reached by saturating the left shift
        return low if floored == low else high
    if floored % (1 << -frac):
        return None
    raw = floored >> -frac
    return raw if low <= raw <= high else None


def _row_for_distances(shape: UnitShape, distances: list[int]) -> list[int] | None:
    """Raw inputs with the given floored distances from the maximum (None: a lane beyond the
    2e cut-off), trying maxima from the top of the range down."""
    cutoff = 2 * shape.exp_bitwidth + 1
    ends = FixedPoint([[shape.input_low] * shape.n, [shape.input_high] * shape.n],
                      shape.value_bits, shape.frac_bits).floor()[0].values
    floored_low, top = ends[0], int(ends[1].max())
    for maximum in range(top, max(int(floored_low.min()), top - 128) - 1, -1):
        row = []
        for lane, d in enumerate(distances):
            if d is None:
                raw = shape.input_low
                if maximum - floored_low[lane] < cutoff:
                    break
            else:
                raw = _raw_for_floored(shape, lane, maximum - d)
                if raw is None:
                    break
            row.append(raw)
        else:
            return row
    return None


def _sum_distances(shape: UnitShape, target: int) -> list[int | None] | None:
    """Distances whose exponent terms add up to ``target`` (None when too many lanes)."""
    two_e = 2 * shape.exp_bitwidth
    full, rest = target >> two_e, target & ((1 << two_e) - 1)
    bits = [j for j in range(two_e) if rest >> j & 1]
    if full < 1 or full + len(bits) > shape.n:
        return None
    distances = [0] * full + [two_e - j for j in sorted(bits, reverse=True)]
    return distances + [None] * (shape.n - len(distances))


def _nearest_reachable(shape: UnitShape, target: int) -> list[int]:
    """``target`` if it is a sum of at most n terms, else the nearest such sums around it."""
    two_e = 2 * shape.exp_bitwidth
    if _sum_distances(shape, target) is not None:
        return [target]
    found = []
    full = target >> two_e
    budget = shape.n - full
    if budget >= 1:
        rest = target & ((1 << two_e) - 1)
        kept = [j for j in range(two_e) if rest >> j & 1][-budget:]
        below = (full << two_e) + sum(1 << j for j in kept)
        found.append(below)
        lowest = 1 << min(kept)
        above = below + lowest
        found.append(above)
    return [s for s in found if _sum_distances(shape, s) is not None]


def _threshold_rows(shape: UnitShape) -> list[list[int]]:
    rows = []
    for target in threshold_sums(shape):
        highest = shape.n << (2 * shape.exp_bitwidth)
        for reachable in _nearest_reachable(shape, min(target, highest)):
            distances = _sum_distances(shape, reachable)
            row = _row_for_distances(shape, distances) if distances else None
            if row is not None:
                rows.append(row)
                if np.ndim(shape.frac_bits) == 0 and shape.n <= 64:
                    rows.append(row[::-1])  # the same sum with the maximum at the far end
    return rows


def _cutoff_rows(shape: UnitShape) -> list[list[int]]:
    """One lane at distance 2e (the last non-zero term) and one at 2e + 1 (the first zero)."""
    rows = []
    two_e = 2 * shape.exp_bitwidth
    for d in (two_e - 1, two_e, two_e + 1):
        distances = [0, d] + [None] * (shape.n - 2) if shape.n >= 2 else [0]
        row = _row_for_distances(shape, distances)
        if row is not None:
            rows.append(row)
    return rows


def reference_inputs(shape: UnitShape, tests_dir: Path) -> tuple[np.ndarray, list[str]]:
    """Input rows of the committed reference cases whose parameters match this unit.

    Reads ``tests/reference.py`` (``load_cases()``); returns an empty array when it is not
    there or no case matches. For argmax every case with the same n and value_bits matches
    (argmax ignores frac_bits). Returns the rows and the names of the cases used.
    """
    module = _reference_module(tests_dir)
    if module is None:
        return np.zeros((0, shape.n), dtype=np.int64), []
    rows, names = [], []
    for case in module.load_cases():
        if _case_matches(shape, case.params):
            rows.append(np.asarray(case.inputs, dtype=np.int64).reshape(-1, shape.n))
            names.append(case.name)
    if not rows:
        return np.zeros((0, shape.n), dtype=np.int64), []
    return np.concatenate(rows), names


def _case_matches(shape: UnitShape, params: Mapping) -> bool:
    if int(params["n"]) != shape.n or int(params["value_bits"]) != shape.value_bits:
        return False
    if shape.unit == "argmax":
        return True
    merged = {**registry.UNITS["shiftmax"].defaults(), **params}
    frac = np.broadcast_to(np.asarray(merged["frac_bits"]), (shape.n,))
    ours = np.broadcast_to(np.asarray(shape.frac_bits), (shape.n,))
    return (np.array_equal(frac, ours) and int(merged["exp_bitwidth"]) == shape.exp_bitwidth
            and int(merged["buffer_bitwidth"]) == shape.buffer_bitwidth)


def reference_configurations(tests_dir: Path) -> list[dict]:
    """The distinct shiftmax parameter sets of the committed reference cases."""
    module = _reference_module(tests_dir)
    if module is None:
        return []
    seen = {}
    for case in module.load_cases():
        params = {**registry.UNITS["shiftmax"].defaults(), **case.params}
        frac = params["frac_bits"]
        key = (int(params["n"]), int(params["value_bits"]),
               frac if np.ndim(frac) == 0 else tuple(int(f) for f in frac),
               int(params["exp_bitwidth"]), int(params["buffer_bitwidth"]))
        seen.setdefault(key, None)
    names = ("n", "value_bits", "frac_bits", "exp_bitwidth", "buffer_bitwidth")
    return [dict(zip(names, key, strict=True)) for key in seen]


def _reference_module(tests_dir: Path) -> ModuleType | None:
    """``tests/reference.py`` loaded from its file (tests/ is not a package), or None."""
    loader = Path(tests_dir) / "reference.py"
    if not loader.exists():
        return None
    name = "shiftmax_reference_cases"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
