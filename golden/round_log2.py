"""Rounding a positive integer sum to the nearest power of two, as the two references do.

Both rules have the same shape: with ``k = floor(log2(S))`` (the leading one of S),

    round_log2(S) = k + (S >= T[k])

and differ only in the threshold table ``T``:

- ``"exact"`` (akida 2.14): ``T[k] = ceil(2**(k + 1/2))``, the smallest integer with
  ``S*S >= 2**(2k+1)``: the nearest power of two in the log domain, decided exactly.
- ``"quantizeml"`` (quantizeml 0.17.1 on a batch of one): ``tf.round(log(float32(S)) / ln 2)``
  on TensorFlow's CPU scalar path (glibc ``logf``). Its thresholds were measured on the real
  package (``tests/data/round_log2_quantizeml.json`` holds the probe, ``make reference-data``
  redoes it). They equal the exact ones up to k = 17 and then drift by a few counts
  (k <= 24) up to about 2,500 (k = 30). quantizeml rounds S to float32 first; the table below
  is already translated to integers (the smallest integer whose float32 rounding reaches the
  measured float threshold), so it applies to the exact integer sum of the hardware.
"""

from __future__ import annotations

from math import isqrt

import numpy as np

from .params import ROUND_LOG2_MODES, check_choice

__all__ = ["round_log2", "round_log2_thresholds", "leading_one", "QUANTIZEML_FLOAT_THRESHOLDS"]

#: quantizeml 0.17.1's per-binade thresholds, k = 0..31, as measured on the package
#: (TensorFlow 2.15 CPU, one-row batch): round_log2(x) = k + (x >= T[k]) for every
#: integer-valued float32 x in [2**k, 2**(k+1)), which is all the layer ever sees. Each entry
#: is the smallest such x (the ceiling of the measured float threshold), so the table does not
#: apply to non-integer x.
QUANTIZEML_FLOAT_THRESHOLDS = (
    2, 3, 6, 12, 23, 46, 91, 182, 363, 725, 1449, 2897, 5793, 11586, 23171, 46341,
    92682, 185364, 370728, 741455, 1482912, 2965819, 5931647, 11863281, 23726574,
    47453080, 94906384, 189812496, 379625184, 759249280, 1518502272, 3037000192,
)

_EXACT_K_MAX = 62


def _exact_thresholds() -> np.ndarray:
    # Smallest S with S*S >= 2**(2k+1).
    return np.array([isqrt((1 << (2 * k + 1)) - 1) + 1 for k in range(_EXACT_K_MAX)],
                    dtype=np.int64)


def _quantizeml_thresholds() -> np.ndarray:
    table = []
    for k, threshold in enumerate(QUANTIZEML_FLOAT_THRESHOLDS):
        # Integers just below the float threshold may round up to it in float32.
        ulp = 1 << max(k - 23, 0)
        candidates = np.arange(threshold - ulp, threshold + 1, dtype=np.int64)
        reaches = candidates.astype(np.float32) >= np.float32(threshold)
        table.append(int(candidates[np.argmax(reaches)]))
    return np.array(table, dtype=np.int64)


_THRESHOLDS = {"exact": _exact_thresholds(), "quantizeml": _quantizeml_thresholds()}
for _table in _THRESHOLDS.values():
    _table.setflags(write=False)


def round_log2_thresholds(mode: str = "exact") -> np.ndarray:
    """The integer threshold table ``T`` of a mode (read-only int64 array indexed by k)."""
    check_choice("round_log2", mode, ROUND_LOG2_MODES)
    return _THRESHOLDS[mode]


def leading_one(values: np.ndarray) -> np.ndarray:
    """``floor(log2(v))`` of positive int64 values, exactly (the leading-one position)."""
    values = np.asarray(values, dtype=np.int64)
    _, exponent = np.frexp(values.astype(np.float64))
    k = exponent.astype(np.int64) - 1
    # float64 may round v = 2**m - small up to 2**m above 2**53; step back where it did.
    return k - (np.right_shift(values, k) == 0)


def round_log2(sums, mode: str = "exact") -> np.ndarray:
    """Round positive integer sums to the nearest power-of-two exponent under ``mode``."""
    table = round_log2_thresholds(mode)
    sums = np.asarray(sums, dtype=np.int64)
    if np.any(sums < 1):
        raise ValueError(f"sums must be positive, not {sums[sums < 1][:4]}")
    k = leading_one(sums)
    if np.any(k >= len(table)):
        raise ValueError(f"round_log2={mode!r} has thresholds for sums below 2**{len(table)}, "
                         f"not {sums.max()}")
    return k + (sums >= table[k])
