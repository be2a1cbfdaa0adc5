"""Integer fixed-point tensors with quantizeml's semantics, in numpy."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .params import check_frac_bits, check_int

__all__ = ["FixedPoint", "clamp", "shift_floor", "integer_array"]

# Limits that keep every intermediate inside int64 without wrapping.
MAX_VALUE_BITS = 31
MAX_ABS_FRAC_BITS = 31


def clamp(values: np.ndarray, value_bits: int) -> np.ndarray:
    """Saturate to ``[-2**value_bits, 2**value_bits - 1]`` (quantizeml's ``saturate``)."""
    # np.maximum/np.minimum are several times faster than np.clip on int64.
    result = np.maximum(values, -(1 << value_bits))
    return np.minimum(result, (1 << value_bits) - 1, out=result)


def shift_floor(values: np.ndarray, shift, value_bits: int, dtype=np.int64) -> np.ndarray:
    """Multiply ``values`` by ``2**shift``, floor, then clamp to ``value_bits``.

    ``values`` must already lie in the ``value_bits`` range (a FixedPoint's values); ``shift``
    is an int or an array broadcasting against ``values`` (one entry per lane). A negative
    shift is an arithmetic right shift (floor toward minus infinity); a positive one is a left
    shift whose result saturates instead of wrapping. The result has ``dtype``, which must hold
    ``value_bits + 1`` bits (a narrower type makes the hot path of the golden model faster).
    """
    shift = np.asarray(shift, dtype=np.int64)
    if not np.any(shift > 0):
        # A right shift (floor) of an in-range value stays in range: no clamp needed.
        if not np.any(shift):
            return values.astype(dtype, copy=False)
        # One pass: shift in int64 and store in the narrow type (the result fits by construction).
        return np.right_shift(values, -shift, out=np.empty(np.broadcast_shapes(
            values.shape, shift.shape), dtype), casting="unsafe")
    right = np.maximum(-shift, 0)
    left = np.maximum(shift, 0)
    shifted = np.right_shift(values, right) if np.any(right) else values
    # Pre-saturate so that the left shift cannot leave int64: any value beyond
    # (limit >> left) + 1 saturates anyway.
    limit = 1 << value_bits
    shifted = np.minimum(np.maximum(shifted, -(limit >> left) - 1), (limit >> left) + 1)
    return clamp(np.left_shift(shifted, left), value_bits).astype(dtype, copy=False)


class FixedPoint:
    """A tensor of integers ``values`` standing for ``values * 2**-frac_bits``.

    The conventions are quantizeml's: ``value_bits`` counts the magnitude bits and not the
    sign, so the representable range is ``[-2**value_bits, 2**value_bits - 1]``. Values
    outside that range are *clamped* when the FixedPoint is constructed (quantizeml's
    ``saturate``); nothing ever wraps.

    Parameters
    ----------
    values : integer array-like
        Any shape. Reductions (shiftmax, argmax, topk) run over the last axis, the *lanes*.
        Any integer type works, exactly: unsigned (``uint64`` included) and Python integers
        beyond 64 bits clamp like the others. Floats are accepted only when every element is
        a finite integer. A FixedPoint is not accepted (pass its ``.values``, ``value_bits``
        and ``frac_bits``: rebuilding one with other parameters would silently rescale it).
    value_bits : int
        Magnitude bits, 1 to 31.
    frac_bits : int or 1-D sequence of int
        Fractional bits, -31 to 31; a sequence gives one entry per lane (its length must
        equal the last axis). Negative values mean the integer counts units of
        ``2**-frac_bits``, i.e. the scale is larger than one.

    Attributes
    ----------
    values : np.ndarray of int64
    value_bits : int
    frac_bits : int or np.ndarray of int64 (one per lane)
    """

    __slots__ = ("values", "value_bits", "frac_bits")

    def __init__(self, values, value_bits: int, frac_bits: int | Sequence[int] = 0):
        check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        array = integer_array(values, "values", floats=True)
        if array.ndim == 0:
            array = array.reshape(1)
        lanes = array.shape[-1]
        frac = check_frac_bits(frac_bits, lanes, limit=MAX_ABS_FRAC_BITS)
        self.values = _clamp_any(array, value_bits)
        self.value_bits = value_bits
        self.frac_bits = frac

    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    @classmethod
    def _trusted(cls, values: np.ndarray, value_bits: int, frac_bits) -> FixedPoint:
        """Wrap int64 values already known to be in range (no checks, no copy)."""
        self = cls.__new__(cls)
        self.values, self.value_bits, self.frac_bits = values, value_bits, frac_bits
        return self

    def floor(self) -> tuple[FixedPoint, int | np.ndarray]:
        """Drop the fractional bits: ``floor(values * 2**-frac_bits)``, then clamp.

        Returns the floored FixedPoint (``frac_bits = 0``) and the ``frac_bits`` that were
        removed, like quantizeml's ``FixedPoint.floor``. For negative ``frac_bits`` this is a
        left shift, which saturates at ``value_bits``.
        """
        values = shift_floor(self.values, -np.asarray(self.frac_bits), self.value_bits)
        return FixedPoint._trusted(values, self.value_bits, 0), self.frac_bits

    def shift(self, s) -> FixedPoint:
        """Multiply the values by ``2**s`` (left shift for ``s > 0``, floor for ``s < 0``).

        As in quantizeml, ``value_bits`` and ``frac_bits`` are kept, so the result saturates
        on a left shift and floors on a right shift. ``s`` is an int or an integer array
        broadcasting against ``values``.
        """
        s = np.asarray(s)
        if not np.issubdtype(s.dtype, np.integer):
            raise TypeError(f"s must be an integer or an integer array, not {s.dtype}")
        return FixedPoint._trusted(shift_floor(self.values, s, self.value_bits),
                                   self.value_bits, self.frac_bits)

    def to_float(self) -> np.ndarray:
        """The real numbers the integers stand for: ``values * 2**-frac_bits`` (float64)."""
        return self.values * np.exp2(-np.asarray(self.frac_bits, dtype=np.float64))

    def __repr__(self) -> str:
        frac = self.frac_bits if np.ndim(self.frac_bits) == 0 else list(self.frac_bits)
        return (f"FixedPoint({_preview(self.values)}, value_bits={self.value_bits}, "
                f"frac_bits={frac})")


def integer_array(values, name: str, *, floats: bool = False,
                  expected: str = "integers") -> np.ndarray:
    """``values`` as a numpy array of integers, checked, without changing any value.

    The result has a signed or unsigned integer dtype, or ``object`` (Python integers beyond
    64 bits), or with ``floats=True`` a float dtype whose elements are all finite integers.
    A list of Python integers that numpy would turn into floats (one of them at least 2**63)
    becomes an ``object`` array, so no integer is rounded. Raises TypeError naming ``name``
    ("{name} must be {expected}, not ...") for anything else (booleans, strings, non-integral
    floats, a FixedPoint), ValueError for a ragged nesting.
    """
    if isinstance(values, FixedPoint):
        raise TypeError(f"{name} must be an integer array, not a FixedPoint (pass its .values, "
                        f"value_bits and frac_bits to build another)")
    try:
        array = np.asarray(values)
    except (ValueError, OverflowError) as error:
        raise ValueError(f"{name} must be a rectangular array of integers ({error})") from None
    kind = array.dtype.kind
    if kind == "f" and not isinstance(values, np.ndarray):
        # np.asarray([2**63, 1]) is float64: keep the Python integers exact.
        objects = np.asarray(values, dtype=object)
        if objects.size and _all_integers(objects):
            array, kind = objects, "O"
    if kind in "iu":
        return array
    if kind == "O" and _all_integers(array):
        return array
    if kind == "f" and floats:
        # float16 holds integers up to 65504 exactly: check without any cast that overflows.
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise TypeError(f"{name} must be {expected}, not non-integral floats "
                            f"({_preview(array)})")
        return array
    described = "non-integer objects" if kind == "O" else str(array.dtype)
    raise TypeError(f"{name} must be {expected}, not {described} ({_preview(array)})")


def _all_integers(objects: np.ndarray) -> bool:
    """Whether every element of an object array is an integer (a bool is not)."""
    return all(isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))
               for v in objects.flat)


def _clamp_any(array: np.ndarray, value_bits: int) -> np.ndarray:
    """Clamp an :func:`integer_array` result to ``value_bits``, exactly, into int64."""
    kind = array.dtype.kind
    if kind == "i":
        return clamp(array.astype(np.int64, copy=False), value_bits)
    low, high = -(1 << value_bits), (1 << value_bits) - 1
    if kind == "u":
        # Clamp in the unsigned type first: astype(np.int64) would wrap values >= 2**63.
        return np.minimum(array, high).astype(np.int64)
    if kind == "f":
        # float64 bounds promote float16/float32 (no overflow in the cast of 2**value_bits).
        clipped = np.minimum(np.maximum(array, np.float64(low)), np.float64(high))
        return clipped.astype(np.int64)
    return np.minimum(np.maximum(array, low), high).astype(np.int64)


def _preview(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), threshold=8, edgeitems=3)
