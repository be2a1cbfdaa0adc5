"""Loader for the reference vectors in tests/data/ (made by tools/reference_data.py).

The vectors come from the real quantizeml 0.17.1 and akida 2.14.0 packages; this module only
reads them (json + numpy, no TensorFlow)::

    from tests.reference import load_cases          # or `from reference import load_cases`

    for case in load_cases():
        x = FixedPoint(case.inputs, case.params["value_bits"], case.params["frac_bits"])
        ...                                          # compare with case.quantizeml / case.akida

Where they apply: ``round_log2="quantizeml"`` equals ``case.quantizeml`` on the rows where
``case.quantizeml_sum_exact``; ``round_log2="exact"`` equals ``case.akida`` on the rows where
``case.akida_comparable`` (akida saturates its input to B-1 bits and wraps its sum at 2**32).

Every array is read-only and the loaded objects are cached: treat them as constants.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

__all__ = [
    "AKIDA_SUM_MODULUS",
    "DATA_DIR",
    "ReferenceCase",
    "load_cases",
    "load_round_log2_quantizeml",
    "load_param_outcomes",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
CASES_FILE = DATA_DIR / "shiftmax_cases.json"
THRESHOLDS_FILE = DATA_DIR / "round_log2_quantizeml.json"
PARAMS_FILE = DATA_DIR / "shiftmax_params.json"

#: akida 2.14 adds the exponent terms in a 32-bit unsigned register (it wraps at 2**32).
AKIDA_SUM_MODULUS = 1 << 32


@dataclass(frozen=True)
class ReferenceCase:
    """One parameter set and its rows, with the outputs of both references.

    Attributes
    ----------
    name : str
        e.g. ``"n10_vb7_f0_e10_b32"`` (n, value_bits, frac_bits, exp_bitwidth, buffer_bitwidth;
        ``fm2`` is frac_bits -2, ``flanes`` one frac_bits per lane).
    params : dict
        ``n``, ``value_bits``, ``frac_bits`` (int, or list with one entry per lane),
        ``exp_bitwidth``, ``buffer_bitwidth``.
    inputs : np.ndarray of int64, shape (rows, n)
        Raw input integers (standing for ``x * 2**-frac_bits``).
    quantizeml : np.ndarray of int64, shape (rows, n), or None
        quantizeml's ``QuantizedShiftmax`` output values (frac_bits = exp_bitwidth), each row
        evaluated alone (a batch of one).
    akida : np.ndarray of int64, shape (rows, n), or None
        akida's ``Shiftmax`` outputs; None when akida cannot run the case
        (value_bits > 7 or a negative frac_bits).
    kinds : list of str
        How each row was made (``random``, ``ties``, ``threshold_exact_at``, ...).
    quantizeml_sum_exact : np.ndarray of bool, shape (rows,)
        Whether quantizeml's float32 sum equals the exact integer sum rounded to float32
        (always true below 2**24). Where false, quantizeml's output depends on TensorFlow's
        summation order and the golden model (which keeps the exact sum) may differ.
    unclamped_sum : np.ndarray of int64, shape (rows,)
        The exact integer sum of quantizeml's exponent terms.
    exact_sum : np.ndarray of int64, shape (rows,)
        The same, clamped to ``2**(B-1) - 1`` (the sum the golden model keeps).
    quantizeml_sum : np.ndarray of int64, shape (rows,)
        The float32 sum quantizeml passed to ``round_log2`` (after its clamp), as an integer.
    quantizeml_log2_sum : np.ndarray of int64, shape (rows,)
        quantizeml's ``round_log2`` of that sum (``R``).
    """

    name: str
    params: dict
    inputs: np.ndarray
    quantizeml: np.ndarray | None
    akida: np.ndarray | None
    kinds: list[str]
    quantizeml_sum_exact: np.ndarray
    unclamped_sum: np.ndarray
    exact_sum: np.ndarray
    quantizeml_sum: np.ndarray
    quantizeml_log2_sum: np.ndarray

    @property
    def akida_comparable(self) -> np.ndarray:
        """Rows where akida 2.14 follows the golden arithmetic (bool per row).

        akida saturates each floored input to a signed (B-1)-bit value and adds the exponent
        terms in a 32-bit register that wraps; rows where either happens are False (all rows
        are False when akida did not run the case). On the True rows
        ``quantized_shiftmax(..., round_log2="exact")`` equals ``akida``.
        """
        if self.akida is None:
            return np.zeros(len(self.inputs), dtype=bool)
        frac = np.broadcast_to(np.asarray(self.params["frac_bits"], dtype=np.int64),
                               (self.params["n"],))
        floored = np.right_shift(self.inputs, frac)  # akida cases have frac_bits >= 0
        limit = 1 << (self.params["buffer_bitwidth"] - 2)
        inside = ((floored >= -limit) & (floored < limit)).all(axis=-1)
        return inside & (self.unclamped_sum < AKIDA_SUM_MODULUS)

    def __repr__(self) -> str:
        return f"ReferenceCase({self.name!r}, rows={len(self.inputs)})"


def _frozen(values, dtype) -> np.ndarray:
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


def _rows(values, n: int) -> np.ndarray | None:
    if values is None:
        return None
    array = np.array(values, dtype=np.int64).reshape(-1, n)
    array.setflags(write=False)
    return array


def _read_json(path: Path) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `make reference-data`")
    return json.loads(path.read_text())


@cache
def load_cases() -> list[ReferenceCase]:
    """All reference cases from ``tests/data/shiftmax_cases.json`` (cached)."""
    document = _read_json(CASES_FILE)
    cases = []
    for entry in document["cases"]:
        n = entry["params"]["n"]
        cases.append(ReferenceCase(
            name=entry["name"],
            params=dict(entry["params"]),
            inputs=_rows(entry["inputs"], n),
            quantizeml=_rows(entry["quantizeml"], n),
            akida=_rows(entry["akida"], n),
            kinds=list(entry["kinds"]),
            quantizeml_sum_exact=_frozen(entry["quantizeml_sum_exact"], np.bool_),
            unclamped_sum=_frozen(entry["unclamped_sum"], np.int64),
            exact_sum=_frozen(entry["exact_sum"], np.int64),
            quantizeml_sum=_frozen(entry["quantizeml_sum"], np.int64),
            quantizeml_log2_sum=_frozen(entry["quantizeml_log2_sum"], np.int64),
        ))
    return cases


@cache
def load_round_log2_quantizeml() -> dict:
    """quantizeml's probed round_log2 thresholds (``round_log2_quantizeml.json``), cached.

    Keys: ``float_thresholds`` (float32 values as floats, k = 0..31), ``float_threshold_bits``
    (their float32 bit patterns), ``integer_thresholds`` (the same on exact integer sums),
    ``doc``, ``versions``.
    """
    return _read_json(THRESHOLDS_FILE)


@cache
def load_param_outcomes() -> list[dict]:
    """Which (buffer_bitwidth, exp_bitwidth) pairs quantizeml and akida accept, cached.

    One dict per pair: ``buffer_bitwidth``, ``exp_bitwidth``, ``quantizeml`` and ``akida``
    (None when the package accepted the pair, else ``"ExceptionType: message"``).
    """
    return _read_json(PARAMS_FILE)["pairs"]
