"""Build the reference test vectors in tests/data/ from quantizeml 0.17.1 and akida 2.14.0.

Run it with the reference virtualenv (``make reference-data``)::

    .venv-reference/bin/python tools/reference_data.py --out tests/data

It writes three files, all produced by the real packages (never by ``shiftmax.golden``):

- ``shiftmax_cases.json``: one case per parameter set (n, value_bits, frac_bits, exp_bitwidth,
  buffer_bitwidth) with labelled input rows, quantizeml's outputs (each row evaluated alone,
  as a batch of one), akida's outputs for the int8 cases, and quantizeml's intermediates.
- ``round_log2_quantizeml.json``: quantizeml's round_log2 thresholds, probed by binary search.
- ``shiftmax_params.json``: which (buffer_bitwidth, exp_bitwidth) pairs each package accepts.

Everything is deterministic: each case draws from a generator seeded by its name, and a rerun
writes byte-identical files. It takes 1.5 to 4 minutes on two cores (quantizeml runs each row
alone, a few milliseconds each). ``--spec-thresholds FILE`` cross-checks the probed round_log2
table with a measured one; ``--only TEXT`` builds only the matching cases (for trials).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zlib
from dataclasses import dataclass
from math import isqrt
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import akida  # noqa: E402
import quantizeml  # noqa: E402
import tensorflow as tf  # noqa: E402
from quantizeml.layers import QuantizedShiftmax  # noqa: E402
from quantizeml.tensors import FixedPoint as QFixedPoint  # noqa: E402
from quantizeml.tensors import round_log2 as q_round_log2  # noqa: E402

# The layer's module is shadowed by the ``shiftmax`` function in quantizeml.layers.
_SHIFTMAX_MODULE = sys.modules["quantizeml.layers.shiftmax"]

CASES_FILE = "shiftmax_cases.json"
THRESHOLDS_FILE = "round_log2_quantizeml.json"
PARAMS_FILE = "shiftmax_params.json"

FLOAT32_MANTISSA_BITS = 23


# --------------------------------------------------------------------------------------------
# round_log2 threshold tables
# --------------------------------------------------------------------------------------------

def quantizeml_round_log2(value: np.float32) -> int:
    """quantizeml.tensors.round_log2 of one float32, shaped (1, 1) like the layer's sum."""
    result = q_round_log2(tf.constant([[value]], dtype=tf.float32))
    return int(result.numpy().reshape(-1)[0])


def _float32_from_bits(bits: int) -> np.float32:
    return np.array([bits], dtype=np.uint32).view(np.float32)[0]


def _float32_bits(value: float) -> int:
    return int(np.array([value], dtype=np.float32).view(np.uint32)[0])


def probe_float_threshold(k: int) -> np.float32:
    """Smallest float32 x in [2**k, 2**(k+1)) with quantizeml's round_log2(x) = k + 1."""
    low = _float32_bits(2.0**k)            # round_log2 gives k here
    high = _float32_bits(2.0 ** (k + 1))   # first float of the next binade
    if quantizeml_round_log2(_float32_from_bits(low)) != k:
        raise RuntimeError(f"round_log2(2**{k}) is not {k}")
    # Invariant: round_log2(low) == k, and the answer lies in (low, high].
    while high - low > 1:
        middle = (low + high) // 2
        if quantizeml_round_log2(_float32_from_bits(middle)) >= k + 1:
            high = middle
        else:
            low = middle
    # The search assumes one step per binade; check a window on both sides of it.
    for bits in range(max(high - 64, _float32_bits(2.0**k)), high):
        if quantizeml_round_log2(_float32_from_bits(bits)) != k:
            raise RuntimeError(f"round_log2 is not monotonic below the k={k} threshold")
    for bits in range(high, min(high + 64, _float32_bits(2.0 ** (k + 1)))):
        if quantizeml_round_log2(_float32_from_bits(bits)) != k + 1:
            raise RuntimeError(f"round_log2 is not monotonic above the k={k} threshold")
    return _float32_from_bits(high)


def integer_threshold(float_threshold: np.float32, k: int) -> int:
    """Smallest integer whose float32 rounding is at least ``float_threshold``."""
    ceiling = int(np.ceil(np.float64(float_threshold)))
    ulp = 1 << max(k - FLOAT32_MANTISSA_BITS, 0)
    candidates = np.arange(ceiling - ulp, ceiling + 1, dtype=np.int64)
    reaches = candidates.astype(np.float32) >= float_threshold
    return int(candidates[np.argmax(reaches)])


def exact_thresholds(count: int = 32) -> list[int]:
    """``ceil(2**(k + 1/2))``: the smallest integer S with S*S >= 2**(2k+1)."""
    return [isqrt((1 << (2 * k + 1)) - 1) + 1 for k in range(count)]


def probe_thresholds(spec_thresholds: Path | None = None) -> dict:
    print("probing quantizeml.tensors.round_log2 thresholds, k = 0..31", flush=True)
    floats = [probe_float_threshold(k) for k in range(32)]
    integers = [integer_threshold(value, k) for k, value in enumerate(floats)]
    table = {
        "doc": (
            "quantizeml 0.17.1 round_log2 (TensorFlow 2.15 CPU) thresholds per binade: "
            "round_log2(x) = k + (x >= float_thresholds[k]) for float32 x in [2**k, 2**(k+1)). "
            "Made by tools/reference_data.py: for each k, a binary search over the float32 bit "
            "patterns of [2**k, 2**(k+1)) calling quantizeml.tensors.round_log2 on a (1, 1) "
            "float32 tensor (the shape of the layer's sum for a batch of one), then a check "
            "that the 64 floats on each side of the step give k and k+1. "
            "integer_thresholds[k] is the smallest integer whose float32 rounding reaches "
            "float_thresholds[k] (the threshold on an exact integer sum)."
        ),
        "versions": package_versions(),
        "float_thresholds": [float(value) for value in floats],
        "float_threshold_bits": [_float32_bits(value) for value in floats],
        "integer_thresholds": integers,
    }
    cross_check_thresholds(table, spec_thresholds)
    return table


def cross_check_thresholds(table: dict, spec_thresholds: Path | None) -> None:
    """Compare the probe with a measured table (round_log2_thresholds.json) and with golden's
    table when they are available; print the outcome."""
    floats = np.array(table["float_thresholds"], dtype=np.float32)
    if spec_thresholds is not None:
        spec = json.loads(spec_thresholds.read_text())
        spec_floats = np.array(spec["float_threshold_tf_cpu_scalar_glibc_logf"], dtype=np.float32)
        # The spec's integer table applies to float32 sums: it is ceil(float threshold).
        spec_ints = spec["tf_cpu_scalar_glibc_logf"]
        same_floats = np.array_equal(floats, spec_floats)
        same_ints = [int(np.ceil(np.float64(value))) for value in floats] == spec_ints
        print(f"  spec tf_cpu_scalar_glibc_logf: float thresholds "
              f"{'equal' if same_floats else 'DIFFER'}, integer table (ceil of the floats) "
              f"{'equal' if same_ints else 'DIFFERS'}", flush=True)
    try:
        from shiftmax.golden import round_log2_thresholds
        from shiftmax.golden.round_log2 import QUANTIZEML_FLOAT_THRESHOLDS
    except ImportError:
        print("  shiftmax.golden not importable here: golden cross-check left to "
              "tests/test_golden_reference.py", flush=True)
        return
    # Golden keeps the thresholds for integer-valued sums: the ceilings of the float ones.
    ceilings = [int(np.ceil(np.float64(value))) for value in floats]
    same_floats = ceilings == list(QUANTIZEML_FLOAT_THRESHOLDS)
    same_ints = table["integer_thresholds"] == round_log2_thresholds("quantizeml").tolist()
    print(f"  golden QUANTIZEML_FLOAT_THRESHOLDS {'equal' if same_floats else 'DIFFER'}, "
          f"round_log2_thresholds('quantizeml') {'equal' if same_ints else 'DIFFERS'}",
          flush=True)


# --------------------------------------------------------------------------------------------
# Parameter validation of the two packages
# --------------------------------------------------------------------------------------------

def _outcome(build) -> str | None:
    try:
        build()
    except Exception as error:  # noqa: BLE001 - we record whatever the package raises
        return f"{type(error).__name__}: {error}"
    return None


def _akida_layer(n: int, buffer_bitwidth: int, exp_bitwidth: int) -> akida.Model:
    model = akida.Model()
    model.add(akida.InputData((1, 1, n), input_bits=8))
    model.add(akida.Shiftmax(output_bits=exp_bitwidth + 1, buffer_bits=buffer_bitwidth - 1))
    return model


def probe_params() -> dict:
    print("probing accepted (buffer_bitwidth, exp_bitwidth) pairs", flush=True)
    entries = []
    for exp_bitwidth in range(0, 18):
        for buffer_bitwidth in range(1, 41):
            config = {"buffer_bitwidth": buffer_bitwidth, "exp_bitwidth": exp_bitwidth}
            entries.append({
                **config,
                "quantizeml": _outcome(lambda c=config: QuantizedShiftmax(quant_config=dict(c))),
                "akida": _outcome(lambda b=buffer_bitwidth, e=exp_bitwidth: _akida_layer(4, b, e)),
            })
    accepted = [(p["buffer_bitwidth"], p["exp_bitwidth"]) for p in entries
                if p["quantizeml"] is None]
    rule_holds = all((p["quantizeml"] is None) == (p["buffer_bitwidth"] >= 2 * p["exp_bitwidth"]
                                                   + 2) for p in entries)
    print(f"  quantizeml accepts {len(accepted)} of {len(entries)} pairs; "
          f"rule 'B >= 2e + 2' {'holds' if rule_holds else 'DOES NOT hold'} on the grid",
          flush=True)
    return {
        "doc": (
            "Outcome of constructing QuantizedShiftmax(quant_config={'buffer_bitwidth': B, "
            "'exp_bitwidth': e}) and akida.Shiftmax(output_bits=e+1, buffer_bits=B-1) (in a "
            "Model after InputData((1, 1, 4), input_bits=8)) for B in 1..40 and e in 0..17: "
            "null when accepted, else 'ExceptionType: message'."
        ),
        "versions": package_versions(),
        "pairs": entries,
    }


# --------------------------------------------------------------------------------------------
# Row construction (in the floored-integer domain, lifted back to raw inputs)
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseSpec:
    """One parameter set and how to fill it with rows."""

    n: int
    value_bits: int
    frac_bits: int | tuple[int, ...]
    exp_bitwidth: int
    buffer_bitwidth: int
    random_rows: int = 200
    thresholds: bool = False
    examples: tuple[tuple[int, ...], ...] = ()

    @property
    def name(self) -> str:
        if isinstance(self.frac_bits, tuple):
            frac = "lanes" + ("m" if min(self.frac_bits) < 0 else "")
        else:
            frac = f"m{-self.frac_bits}" if self.frac_bits < 0 else str(self.frac_bits)
        return (f"n{self.n}_vb{self.value_bits}_f{frac}_e{self.exp_bitwidth}"
                f"_b{self.buffer_bitwidth}")

    @property
    def lane_frac_bits(self) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.frac_bits, dtype=np.int64), (self.n,))

    @property
    def akida_compatible(self) -> bool:
        """akida's Shiftmax takes int8 inputs and right shifts only."""
        return self.value_bits <= 7 and bool(np.all(self.lane_frac_bits >= 0))

    def params(self) -> dict:
        frac = list(self.frac_bits) if isinstance(self.frac_bits, tuple) else self.frac_bits
        return {"n": self.n, "value_bits": self.value_bits, "frac_bits": frac,
                "exp_bitwidth": self.exp_bitwidth, "buffer_bitwidth": self.buffer_bitwidth}


class RowBuilder:
    """Makes labelled input rows for one case."""

    def __init__(self, spec: CaseSpec):
        self.spec = spec
        self.rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
        self.frac = spec.lane_frac_bits
        self.low = -(1 << spec.value_bits)
        self.high = (1 << spec.value_bits) - 1
        # Range of the floored value of each lane (non-negative frac_bits floor it).
        right = np.maximum(self.frac, 0)
        self.floored_low = np.right_shift(self.low, right)
        self.floored_high = np.right_shift(self.high, right)
        self.rows: list[np.ndarray] = []
        self.kinds: list[str] = []
        self.targets: list[int | None] = []

    def add(self, kind: str, row, target_sum: int | None = None) -> None:
        row = np.asarray(row, dtype=np.int64)
        assert row.shape == (self.spec.n,) and row.min() >= self.low and row.max() <= self.high
        self.rows.append(row)
        self.kinds.append(kind)
        self.targets.append(target_sum)

    def lift(self, floored: np.ndarray) -> np.ndarray:
        """Raw inputs whose floor is ``floored`` (random low bits) for lanes with frac_bits >= 0.

        Lanes with negative frac_bits get ``floored >> -frac_bits`` (their floor is then a
        multiple of ``2**-frac_bits``, not ``floored``).
        """
        floored = np.clip(floored, self.floored_low, self.floored_high)
        right = np.maximum(self.frac, 0)
        left = np.maximum(-self.frac, 0)
        noise = self.rng.integers(0, 1 << right)
        raw = np.where(self.frac >= 0, (floored << right) + noise, floored >> left)
        return np.clip(raw, self.low, self.high)

    def exact_lanes(self) -> bool:
        """True when every lane's floored value can be chosen freely (frac_bits >= 0)."""
        return bool(np.all(self.frac >= 0))

    # -- generic rows -------------------------------------------------------------------------

    def add_random(self, count: int) -> None:
        n, e = self.spec.n, self.spec.exp_bitwidth
        for _ in range(count):
            self.add("random", self.rng.integers(self.low, self.high + 1, size=n))
        for _ in range(count):
            # Distances mostly inside the 2e cut-off, so many lanes carry exponent terms.
            top = self.rng.integers(self.floored_low.max(), self.floored_high.min() + 1)
            spread = self.rng.integers(0, 2 * e + 3, size=n)
            self.add("random_near", self.lift(top - spread))

    def add_structured(self) -> None:
        n = self.spec.n
        for value in self.rng.integers(self.low, self.high + 1, size=3):
            self.add("all_equal", np.full(n, value))
        self.add("all_min", np.full(n, self.low))
        self.add("all_max", np.full(n, self.high))
        quarter = self.low + (self.high - self.low) // 4
        for _ in range(3):
            row = np.full(n, self.low)
            row[self.rng.integers(n)] = self.high
            self.add("one_dominant", row)
            row = self.rng.integers(self.low, quarter + 1, size=n)
            row[self.rng.integers(n)] = self.high
            self.add("one_dominant", row)
        if n >= 2:
            for _ in range(4):
                row = self.rng.integers(self.low, self.high, size=n)
                ties = self.rng.choice(n, size=self.rng.integers(2, n + 1), replace=False)
                row[ties] = row.max() + 1
                self.add("ties", row)

    # -- rows with a chosen exact sum -----------------------------------------------------------

    def terms_for_sum(self, target: int, min_term: int = 1) -> list[int] | None:
        """Powers of two in [min_term, 2**(2e)] summing to ``target``, one of them 2**(2e),
        with at most n terms; big terms are split (at random) while lanes remain."""
        n, e = self.spec.n, self.spec.exp_bitwidth
        top = 1 << (2 * e)
        if target < top:
            return None
        rest = target - top
        full, remainder = divmod(rest, top)
        if full + 1 > n:
            return None
        terms = [top] * (1 + full) + [1 << b for b in range(2 * e) if remainder >> b & 1]
        if len(terms) > n or min(terms) < min_term:
            return None
        while len(terms) < n:
            splittable = [i for i, t in enumerate(terms[1:], 1) if t >= 2 * min_term]
            if not splittable or self.rng.random() < 0.3:
                break
            i = splittable[self.rng.integers(len(splittable))]
            half = terms.pop(i) // 2
            terms += [half, half]
        return terms

    def row_for_terms(self, terms: list[int]) -> np.ndarray | None:
        """A raw row whose exponent terms are ``terms`` (other lanes beyond the cut-off)."""
        n, e = self.spec.n, self.spec.exp_bitwidth
        distances = np.full(n, 2 * e + 1 + self.rng.integers(0, 3))
        distances[: len(terms)] = [2 * e - t.bit_length() + 1 for t in terms]
        distances = self.rng.permutation(distances)
        top = (self.floored_high.min() if self.rng.random() < 0.5
               else self.rng.integers(self.floored_low.max(), self.floored_high.min() + 1))
        floored = top - distances
        # Lanes past the cut-off may sit anywhere at or below top - 2e - 1.
        cut = distances > 2 * e
        if np.any(floored[~cut] < self.floored_low[~cut]) or np.any(
                top - 2 * e - 1 < self.floored_low[cut]):
            return None
        floored[cut] = self.rng.integers(self.floored_low[cut], top - 2 * e)
        return self.lift(floored)

    def add_sum(self, kind: str, target: int, min_term: int = 1) -> bool:
        if not self.exact_lanes():
            return False
        for _ in range(4):
            terms = self.terms_for_sum(target, min_term)
            row = None if terms is None else self.row_for_terms(terms)
            if row is not None:
                self.add(kind, row, target)
                return True
        return False

    def add_cutoff(self, count: int) -> None:
        """Rows with lanes exactly at distance 2e (term 1) and 2e+1 (term 0)."""
        n, e = self.spec.n, self.spec.exp_bitwidth
        if n < 3 or not self.exact_lanes():
            return
        for _ in range(count):
            top = self.rng.integers(self.floored_low.max() + 2 * e + 1,
                                    self.floored_high.min() + 1) \
                if self.floored_low.max() + 2 * e + 1 <= self.floored_high.min() else None
            if top is None:
                return
            distances = self.rng.integers(0, 2 * e + 2, size=n)
            lanes = self.rng.permutation(n)[:3]
            distances[lanes] = [0, 2 * e, 2 * e + 1]
            self.add("cutoff", self.lift(top - distances))

    def add_saturating(self) -> None:
        n, e, b = self.spec.n, self.spec.exp_bitwidth, self.spec.buffer_bitwidth
        limit = (1 << (b - 1)) - 1
        self.add_sum("sum_at_limit", limit)
        for target in (limit + 1, limit + 1 + (1 << (2 * e)), n << (2 * e)):
            if target > limit:
                self.add_sum("saturate", target)

    def add_thresholds(self, tables: dict[str, list[int]], float_thresholds: list[float]) -> None:
        e, b, n = self.spec.exp_bitwidth, self.spec.buffer_bitwidth, self.spec.n
        limit = (1 << (b - 1)) - 1
        top_k = min(b - 2, (n << (2 * e)).bit_length() - 1)
        for k in range(2 * e, top_k + 1):
            for table_name, table in tables.items():
                for offset, where in ((0, "at"), (-1, "below")):
                    target = table[k] + offset
                    if target <= limit:
                        self.add_sum(f"threshold_{table_name}_{where}", target)
            if k > FLOAT32_MANTISSA_BITS:
                # Float thresholds with sums made of multiples of the float32 ulp, so that
                # quantizeml's float32 sum is exact whatever its order.
                ulp = 1 << (k - FLOAT32_MANTISSA_BITS)
                threshold = int(float_thresholds[k])
                for target, where in ((threshold, "at"), (threshold - ulp, "below")):
                    if target <= limit:
                        self.add_sum(f"threshold_float_{where}", target, min_term=ulp)


# --------------------------------------------------------------------------------------------
# The two references
# --------------------------------------------------------------------------------------------

class QuantizemlRecorder:
    """Calls QuantizedShiftmax row by row and records its intermediates.

    The layer module's ``pow2`` receives ``y + e = 2e - d`` (the exponent of each lane's term)
    and its ``round_log2`` receives the float32 sum; wrapping both (they return what the
    originals return) exposes quantizeml's own terms and sum without changing its arithmetic.
    """

    def __init__(self):
        self.exponents = None
        self.float_sum = None
        self.log2_sum = None
        self._pow2 = _SHIFTMAX_MODULE.pow2
        self._round_log2 = _SHIFTMAX_MODULE.round_log2

    def __enter__(self):
        def pow2(n):
            self.exponents = n.numpy().copy()
            return self._pow2(n)

        def round_log2(x):
            result = self._round_log2(x)
            self.float_sum = x.numpy().copy()
            self.log2_sum = result.numpy().copy()
            return result

        _SHIFTMAX_MODULE.pow2 = pow2
        _SHIFTMAX_MODULE.round_log2 = round_log2
        return self

    def __exit__(self, *exc):
        _SHIFTMAX_MODULE.pow2 = self._pow2
        _SHIFTMAX_MODULE.round_log2 = self._round_log2


def run_quantizeml(spec: CaseSpec, rows: np.ndarray) -> dict:
    layer = QuantizedShiftmax(quant_config={"buffer_bitwidth": spec.buffer_bitwidth,
                                            "exp_bitwidth": spec.exp_bitwidth})
    frac = tf.constant(np.asarray(spec.frac_bits, dtype=np.float32))
    limit = (1 << (spec.buffer_bitwidth - 1)) - 1
    outputs, unclamped_sums, exact_sums, float_sums, log2_sums = [], [], [], [], []
    with QuantizemlRecorder() as recorder:
        for row in rows:
            x = QFixedPoint(tf.constant(row[None], tf.float32), spec.value_bits, frac)
            result = layer(x)
            if float(result.frac_bits) != spec.exp_bitwidth:
                raise RuntimeError(f"unexpected output frac_bits {result.frac_bits}")
            outputs.append(_as_ints(result.values.numpy().reshape(-1)))
            exponents = _as_ints(recorder.exponents.reshape(-1))
            exact = sum(1 << int(p) for p in exponents if p >= 0)
            unclamped_sums.append(exact)
            exact_sums.append(min(exact, limit))
            float_sums.append(_as_ints(recorder.float_sum.reshape(-1))[0])
            log2_sums.append(_as_ints(recorder.log2_sum.reshape(-1))[0])
    return {"outputs": np.array(outputs, dtype=np.int64), "unclamped_sum": unclamped_sums,
            "exact_sum": exact_sums,
            "float_sum": float_sums, "log2_sum": log2_sums}


def run_akida(spec: CaseSpec, rows: np.ndarray) -> np.ndarray:
    model = _akida_layer(spec.n, spec.buffer_bitwidth, spec.exp_bitwidth)
    model.layers[-1].variables["input_shift"] = spec.lane_frac_bits.astype(np.uint8)
    result = model.forward(rows.astype(np.int8).reshape(-1, 1, 1, spec.n))
    return np.asarray(result).reshape(len(rows), spec.n).astype(np.int64)


def _as_ints(values: np.ndarray) -> list[int]:
    integers = np.asarray(values, dtype=np.float64)
    if not np.all(integers == np.round(integers)):
        raise RuntimeError(f"non-integral values from the package: {values}")
    return [int(v) for v in integers]


# --------------------------------------------------------------------------------------------
# The case list
# --------------------------------------------------------------------------------------------

# The spec's worked examples (also in tests/test_golden_examples.py): (n, vb, f, e, B) -> rows.
SPEC_EXAMPLES = {
    (4, 7, 2, 4, 32): ((5, -3, 12, 12),),
    (4, 7, 0, 7, 16): ((7, 7, 7, -7),),
    (12, 7, 0, 10, 32): ((10, 10, -10, -9, -7, -6, -5, -2, 4, 6, 8, 9),),
    (4, 7, 2, 1, 32): ((-1, -9, -8, 0),),
}


def case_specs() -> list[CaseSpec]:
    lanes7 = (0, 1, 2, 0, 3, 1, 0, 2, 1, 0, 4, 0, 2, 1, 0, 3)
    lanes_mixed = (-2, 0, 1, -1, 3, 0, 2, -3, 0, 1, 4, -1, 0, 2, 5, 0)
    specs = [
        # N from 1 to 1000, value_bits 3..16, frac_bits < 0, 0, > 0 and per lane, and a grid of
        # (B, e) including the B = 2e + 2 boundary.
        CaseSpec(1, 7, 0, 10, 32, random_rows=40),
        CaseSpec(1, 3, -1, 1, 4, random_rows=20),
        CaseSpec(2, 3, 0, 1, 4),
        CaseSpec(2, 7, 3, 1, 8),
        CaseSpec(3, 4, 1, 2, 6),
        CaseSpec(3, 11, -2, 5, 12),
        CaseSpec(4, 7, 2, 4, 32),
        CaseSpec(4, 7, 0, 7, 16),
        CaseSpec(4, 7, 2, 1, 32, thresholds=True),
        CaseSpec(4, 15, 9, 6, 14),
        CaseSpec(7, 5, -1, 3, 8),
        CaseSpec(7, 6, 0, 2, 6),
        CaseSpec(7, 3, 5, 3, 9),
        CaseSpec(10, 7, 0, 10, 32),
        CaseSpec(10, 8, 3, 10, 22),
        CaseSpec(10, 14, -3, 8, 18),
        CaseSpec(12, 7, 0, 10, 32),
        CaseSpec(16, 7, lanes7, 5, 12),
        CaseSpec(16, 7, 0, 2, 10, thresholds=True),
        CaseSpec(33, 7, 1, 3, 12, thresholds=True),
        CaseSpec(16, 9, lanes_mixed, 6, 14),
        CaseSpec(16, 7, 1, 15, 32, thresholds=True),
        CaseSpec(16, 7, 0, 15, 33, thresholds=True),
        CaseSpec(16, 13, 0, 14, 33, thresholds=True),
        CaseSpec(33, 7, 0, 15, 33, thresholds=True),
        CaseSpec(33, 7, 1, 8, 18, thresholds=True),
        CaseSpec(33, 10, 2, 3, 8, thresholds=True),
        CaseSpec(33, 6, 0, 2, 6, thresholds=True),
        CaseSpec(100, 12, -2, 9, 24, random_rows=80),
        CaseSpec(100, 7, 0, 7, 16, random_rows=80, thresholds=True),
        CaseSpec(100, 7, 2, 5, 32, random_rows=80, thresholds=True),
        CaseSpec(197, 16, 4, 12, 32, random_rows=40),
        CaseSpec(197, 7, 0, 11, 24, random_rows=40, thresholds=True),
        CaseSpec(197, 7, 1, 12, 32, random_rows=30, thresholds=True),
        CaseSpec(1000, 7, 0, 10, 32, random_rows=20, thresholds=True),
        CaseSpec(1000, 10, 2, 15, 33, random_rows=15),
        CaseSpec(1000, 7, 0, 4, 32, random_rows=10, thresholds=True),
        CaseSpec(1000, 12, 0, 9, 33, random_rows=10, thresholds=True),
        CaseSpec(1000, 7, 3, 1, 4, random_rows=10, thresholds=True),
    ]
    return [
        CaseSpec(s.n, s.value_bits, s.frac_bits, s.exp_bitwidth, s.buffer_bitwidth,
                 s.random_rows, s.thresholds,
                 SPEC_EXAMPLES.get((s.n, s.value_bits, s.frac_bits, s.exp_bitwidth,
                                    s.buffer_bitwidth), ()))
        for s in specs
    ]


def build_rows(spec: CaseSpec, tables: dict[str, list[int]], float_thresholds: list[float]):
    builder = RowBuilder(spec)
    for example in spec.examples:
        builder.add("spec_example", example)
    builder.add_structured()
    builder.add_cutoff(6)
    builder.add_saturating()
    if spec.thresholds:
        builder.add_thresholds(tables, float_thresholds)
    builder.add_random(spec.random_rows)
    return np.array(builder.rows, dtype=np.int64), builder.kinds, builder.targets


def make_case(spec: CaseSpec, tables, float_thresholds) -> dict:
    rows, kinds, targets = build_rows(spec, tables, float_thresholds)
    quantizeml_run = run_quantizeml(spec, rows)
    limit = (1 << (spec.buffer_bitwidth - 1)) - 1
    for index, (target, exact) in enumerate(zip(targets, quantizeml_run["exact_sum"], strict=True)):
        if target is not None and min(target, limit) != exact:
            raise RuntimeError(f"{spec.name} row {index} ({kinds[index]}) was built for sum "
                               f"{target} but quantizeml's terms sum to {exact}")
    # quantizeml's float32 sum is "exact" when it equals the exact (clamped) integer sum
    # rounded to float32: always so below 2**24, and what the threshold tables assume.
    exact_flags = [float(np.float32(s)) == f for s, f in zip(quantizeml_run["exact_sum"],
                                                            quantizeml_run["float_sum"],
                                                            strict=True)]
    akida_outputs = run_akida(spec, rows) if spec.akida_compatible else None
    return {
        "name": spec.name,
        "params": spec.params(),
        "kinds": kinds,
        "inputs": rows.tolist(),
        "quantizeml": quantizeml_run["outputs"].tolist(),
        "akida": None if akida_outputs is None else akida_outputs.tolist(),
        "unclamped_sum": quantizeml_run["unclamped_sum"],
        "exact_sum": quantizeml_run["exact_sum"],
        "quantizeml_sum": quantizeml_run["float_sum"],
        "quantizeml_log2_sum": quantizeml_run["log2_sum"],
        "quantizeml_sum_exact": exact_flags,
    }


def package_versions() -> dict:
    return {"quantizeml": quantizeml.__version__, "akida": akida.__version__,
            "tensorflow": tf.__version__, "numpy": np.__version__}


def write_json(path: Path, document: dict, *, case_list: bool = False) -> None:
    """Compact JSON, one case (or one list entry) per line so diffs stay readable."""
    key = "cases" if case_list else None
    if key is None:
        path.write_text(json.dumps(document, separators=(",", ":")) + "\n")
        return
    head = {k: v for k, v in document.items() if k != key}
    lines = [json.dumps(head, separators=(",", ":"))[:-1] + f',"{key}":[']
    cases = document[key]
    for index, case in enumerate(cases):
        lines.append(json.dumps(case, separators=(",", ":")) + ("," if index < len(cases) - 1
                                                                else ""))
    lines.append("]}")
    path.write_text("\n".join(lines) + "\n")


CASES_DOC = (
    "Shiftmax reference vectors made by tools/reference_data.py with quantizeml 0.17.1 and "
    "akida 2.14.0. Per case: params (n, value_bits, frac_bits (int or one per lane), "
    "exp_bitwidth, buffer_bitwidth); inputs: raw integer rows (value x * 2**-frac_bits); "
    "kinds: how each row was made; quantizeml: QuantizedShiftmax(quant_config={"
    "'buffer_bitwidth': B, 'exp_bitwidth': e}) on FixedPoint(x[None], value_bits, frac_bits), "
    "one row at a time, output values (frac_bits = e); akida: akida.Shiftmax(output_bits=e+1, "
    "buffer_bits=B-1) outputs (only when value_bits <= 7 and frac_bits >= 0), else null; "
    "unclamped_sum: the exact integer sum of quantizeml's exponent terms; exact_sum: the same "
    "clamped to 2**(B-1)-1; "
    "quantizeml_sum: the float32 sum quantizeml passed to round_log2 (after its clamp); "
    "quantizeml_log2_sum: round_log2's result R; quantizeml_sum_exact: quantizeml_sum equals "
    "float32(exact_sum) (always true below 2**24). Kinds named threshold_<table>_<at|below> "
    "have exact_sum = T[k] or T[k]-1 for the 'exact' or 'quantizeml' integer table, "
    "threshold_float_* the float threshold and one float32 ulp below it built from terms that "
    "are multiples of the ulp; sum_at_limit has exact_sum = 2**(B-1)-1, saturate sums above it."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("tests/data"),
                        help="output folder (default tests/data)")
    parser.add_argument("--only", default="",
                        help="build only the cases whose name contains this text (for trials)")
    parser.add_argument("--spec-thresholds", type=Path, default=None,
                        help="a round_log2_thresholds.json to cross-check the probed table with")
    args = parser.parse_args(argv)
    start = time.monotonic()
    tf.random.set_seed(0)
    args.out.mkdir(parents=True, exist_ok=True)

    thresholds = probe_thresholds(args.spec_thresholds)
    write_json(args.out / THRESHOLDS_FILE, thresholds)
    params = probe_params()
    write_json(args.out / PARAMS_FILE, params)

    tables = {"exact": exact_thresholds(), "quantizeml": thresholds["integer_thresholds"]}
    cases = []
    specs = [spec for spec in case_specs() if args.only in spec.name]
    for index, spec in enumerate(specs, 1):
        case_start = time.monotonic()
        case = make_case(spec, tables, thresholds["float_thresholds"])
        cases.append(case)
        inexact = case["quantizeml_sum_exact"].count(False)
        print(f"[{index}/{len(specs)}] {spec.name}: {len(case['inputs'])} rows, "
              f"akida {'yes' if case['akida'] is not None else 'no'}, "
              f"{inexact} inexact float32 sums, {time.monotonic() - case_start:.1f} s",
              flush=True)
    document = {"doc": CASES_DOC, "versions": package_versions(),
                "seed": "numpy default_rng(zlib.crc32(case name))", "cases": cases}
    write_json(args.out / CASES_FILE, document, case_list=True)
    rows = sum(len(c["inputs"]) for c in cases)
    print(f"wrote {len(cases)} cases, {rows} rows to {args.out} in "
          f"{time.monotonic() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
