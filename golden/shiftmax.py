"""The shiftmax arithmetic, step by step, on integers.

Per row of N lanes, with ``e = exp_bitwidth`` and ``B = buffer_bitwidth``::

    xf[i]  = clamp(floor(x[i] * 2**-f[i]), value_bits)   # floor_input
    M      = max(xf)
    d[i]   = M - xf[i]                                   # distances, >= 0
    p[i]   = 2**(2e - d[i]) if d[i] <= 2e else 0         # exp_terms (the 2e cut-off)
    S      = min(sum(p), 2**(B-1) - 1)                   # exp_sum: clamps, never wraps
    R      = round_log2(S)                               # leading one + threshold table
    out[i] = floor(p[i] * 2**-(R - e))                   # in [0, 2**e], frac_bits = e

With a mask (``True`` = absent, as if the element were minus infinity), masked lanes enter the
maximum as the lowest value of the format, ``-2**value_bits``, and their exponent terms are 0:
they take no part in ``M`` or ``S`` and their output is 0. A row with every lane masked has
``S = 0``; its ``R`` is defined as ``2e`` and its outputs are all 0.

This is what akida 2.14's ``Shiftmax`` computes (``round_log2="exact"``) and what quantizeml
0.17.1's ``QuantizedShiftmax`` computes on a batch of one (``round_log2="quantizeml"``); see
``round_log2`` for how the two differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .fixedpoint import FixedPoint, shift_floor
from .params import check_mask, check_shiftmax_params
from .round_log2 import round_log2 as _round_log2

__all__ = [
    "ShiftmaxSteps",
    "shiftmax_steps",
    "quantized_shiftmax",
    "shiftmax",
    "floor_input",
    "distances",
    "exp_terms",
    "exp_sum",
    "output_shift",
]


def signed_dtype(bits: int) -> type[np.signedinteger]:
    """The narrowest numpy signed integer type of at least ``bits`` bits (sign included)."""
    return np.int16 if bits <= 16 else np.int32 if bits <= 32 else np.int64


def floor_input(x: FixedPoint, dtype=np.int64) -> np.ndarray:
    """Step 1: the input floored to integers (``frac_bits`` removed) and clamped."""
    return shift_floor(x.values, -np.asarray(x.frac_bits), x.value_bits, dtype)


def distances(floored: np.ndarray) -> np.ndarray:
    """Step 2: ``d = max(xf) - xf`` along the last axis (non-negative)."""
    return floored.max(axis=-1, keepdims=True) - floored


def exp_terms(d: np.ndarray, exp_bitwidth: int) -> np.ndarray:
    """Step 3: ``2**(2e - d)``, or 0 beyond the cut-off ``d > 2e``."""
    # numpy defines right shifts by the type's width or more as 0: no clipping needed.
    one = signed_dtype(2 * exp_bitwidth + 2)(1)
    return np.right_shift(one << (2 * exp_bitwidth), d)


def exp_sum(p: np.ndarray, buffer_bitwidth: int) -> np.ndarray:
    """Step 4: the exact sum of the exponent terms, clamped to ``2**(B-1) - 1``."""
    return np.minimum(p.sum(axis=-1, dtype=np.int64), (1 << (buffer_bitwidth - 1)) - 1)


def output_shift(p: np.ndarray, log2_sum: np.ndarray, exp_bitwidth: int) -> np.ndarray:
    """Step 6: ``p >> (R - e)``, one shift per row (``R >= 2e`` so the shift is >= e); int64."""
    shift = (log2_sum - exp_bitwidth).astype(p.dtype)[..., np.newaxis]
    return np.right_shift(p, shift, out=np.empty(p.shape, np.int64))


@dataclass(frozen=True)
class ShiftmaxSteps:
    """Every intermediate of one shiftmax evaluation (integer arrays).

    ``floored``, ``distance``, ``exp_term`` and ``output`` have the input's shape;
    ``exp_sum`` and ``log2_sum`` have the batch shape (the input's shape minus its last axis).
    ``output``, ``exp_sum`` and ``log2_sum`` are int64; the others use the narrowest signed
    type that holds them (int16, int32 or int64), which keeps the model fast.

    With a ``mask`` (kept here, broadcast to the input's shape; None without one):
    ``floored`` holds ``-2**value_bits`` on masked lanes (the value they enter the maximum
    with), ``distance`` is ``M - floored`` on every lane as usual, ``exp_term`` and ``output``
    are 0 on masked lanes. For a row with every lane masked: ``floored`` is ``-2**value_bits``
    and ``distance`` 0 everywhere, ``exp_term`` 0, ``exp_sum`` 0, ``log2_sum`` ``2e`` (the
    value of a row with one present lane; ``R`` is undefined for an empty sum) and ``output``
    all 0.
    """

    floored: np.ndarray
    distance: np.ndarray
    exp_term: np.ndarray
    exp_sum: np.ndarray
    log2_sum: np.ndarray
    output: np.ndarray
    exp_bitwidth: int
    mask: np.ndarray | None = None


def shiftmax_steps(x: FixedPoint, *, exp_bitwidth: int = 10, buffer_bitwidth: int = 32,
                   round_log2: str = "exact", mask=None) -> ShiftmaxSteps:
    """Run the shiftmax and keep every intermediate, for testing the hardware stage by stage.

    Arguments as for :func:`quantized_shiftmax`.
    """
    if not isinstance(x, FixedPoint):
        raise TypeError(f"x must be a FixedPoint, not {type(x).__name__}")
    if x.shape[-1] == 0:
        raise ValueError(f"x must have at least one lane, not shape {x.shape}")
    e, b, mode = check_shiftmax_params(exp_bitwidth=exp_bitwidth,
                                       buffer_bitwidth=buffer_bitwidth,
                                       round_log2=round_log2, n=x.shape[-1])
    mask = check_mask(mask, x.shape)
    # d = M - xf needs one bit more than xf: value_bits + 2 bits with the sign.
    dtype = signed_dtype(x.value_bits + 2)
    floored = floor_input(x, dtype)
    if mask is None:
        d = distances(floored)
        p = exp_terms(d, e)
        s = exp_sum(p, b)
        r = _round_log2(s, mode)
    else:
        # No floored value lies below -2**value_bits: a masked lane never raises the maximum.
        floored = np.where(mask, dtype(-(1 << x.value_bits)), floored)
        d = distances(floored)
        p = exp_terms(d, e)
        np.putmask(p, mask, 0)  # p is a new array: exp_terms never returns its input
        s = exp_sum(p, b)
        # round_log2(2**(2e)) = 2e: the R of a fully masked row (S = 0), whose outputs are 0.
        r = _round_log2(np.where(s == 0, 1 << (2 * e), s), mode)
    return ShiftmaxSteps(floored=floored, distance=d, exp_term=p, exp_sum=s, log2_sum=r,
                         output=output_shift(p, r, e), exp_bitwidth=e, mask=mask)


def quantized_shiftmax(x: FixedPoint, *, exp_bitwidth: int = 10, buffer_bitwidth: int = 32,
                       round_log2: str = "exact", mask=None) -> FixedPoint:
    """Shiftmax of ``x`` along its last axis, bit-exact with the references.

    Parameters
    ----------
    x : FixedPoint
        Input logits; any batch shape, N >= 1 lanes on the last axis.
    exp_bitwidth : int
        ``e``: precision of the exponent terms and of the output (default 10, as quantizeml).
    buffer_bitwidth : int
        ``B``: width of the signed sum buffer, sign included (default 32). The sum saturates at
        ``2**(B-1) - 1``. Must be at least ``2*e + 2``.
    round_log2 : {"exact", "quantizeml"}
        ``"exact"`` reproduces akida 2.14's hardware ``Shiftmax``; ``"quantizeml"`` reproduces
        quantizeml 0.17.1's ``QuantizedShiftmax`` on a batch of one row (they differ only when
        the sum reaches 2**18 or more and sits near a rounding threshold).
    mask : bool array-like broadcastable to ``x.shape``, or None
        ``True`` (or 1) marks an absent element (attention's padding and causal masks): it
        takes no part in the maximum or the sum and its output is 0. A row with every element
        masked gives all zeros. None (the default) is the unmasked model, bit for bit.

    Returns
    -------
    FixedPoint
        Values in ``[0, 2**e]``, each zero or a power of two; ``frac_bits = e`` (so ``2**e`` is
        1.0) and ``value_bits = e + 1``.

    Raises
    ------
    TypeError, ValueError
        Naming the parameter and the value: ``x`` not a FixedPoint or without lanes, bad
        arithmetic parameters, a mask that is not boolean/0-1 or does not broadcast to ``x``.
    """
    steps = shiftmax_steps(x, exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth,
                           round_log2=round_log2, mask=mask)
    return FixedPoint._trusted(steps.output, steps.exp_bitwidth + 1, steps.exp_bitwidth)


def shiftmax(logits) -> np.ndarray:
    """quantizeml's float ``shiftmax``: ``2**(y - round(log2(sum(2**y))))``, ``y = floor(x) - max``.

    No 2e cut-off, no output floor and no clamp; ``round`` is round-half-to-even on the float64
    logarithm. ``logits`` is a float array-like; the result is float64 of the same shape.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim == 0 or logits.shape[-1] == 0:
        raise ValueError(f"logits must have at least one lane, not shape {logits.shape}")
    y = np.floor(logits)
    y = y - y.max(axis=-1, keepdims=True)
    total = np.exp2(y).sum(axis=-1, keepdims=True)
    return np.exp2(y - np.round(np.log2(total)))
