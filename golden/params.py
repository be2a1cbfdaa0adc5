"""Parameter checks shared by the golden model, the hardware generator and the command line.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad
value) with a message that names the parameter and the value it got.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = [
    "ROUND_LOG2_MODES",
    "check_int",
    "check_frac_bits",
    "check_choice",
    "check_mask",
    "check_shiftmax_params",
    "max_buffer_bitwidth",
]

#: The two round_log2 rules: "exact" (akida 2.14) and "quantizeml" (quantizeml 0.17.1).
ROUND_LOG2_MODES = ("exact", "quantizeml")


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` as an int, or raise if it is not an integer in [minimum, maximum].

    A 0-d integer array (``np.array(7)``) counts as an integer, like ``np.int64(7)``.
    """
    value = _scalar(value)
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        bound = "a positive integer" if minimum == 1 and maximum is None else f"at least {minimum}"
        raise ValueError(f"{name} must be {bound}, not {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, not {value}")
    return value


def _scalar(value):
    """The element of a 0-d integer array (numpy scalars and other values pass through)."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":
        return value[()]
    return value


def check_choice(name: str, value, choices) -> str:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, not {value!r}")
    return value


def check_frac_bits(frac_bits, lanes: int, *, limit: int = 31):
    """Validate ``frac_bits``: one int, or one int per lane.

    Returns an int, or a read-only int64 array of length ``lanes``. A 0-d integer array counts
    as one integer.
    """
    frac_bits = _scalar(frac_bits)
    if isinstance(frac_bits, (numbers.Integral, np.integer)) and not isinstance(
        frac_bits, (bool, np.bool_)
    ):
        return check_int("frac_bits", frac_bits, -limit, limit)
    if isinstance(frac_bits, (str, bytes)) or not hasattr(frac_bits, "__len__") or (
        isinstance(frac_bits, np.ndarray) and frac_bits.ndim == 0
    ):
        raise TypeError(f"frac_bits must be an integer or a sequence of integers, "
                        f"not {frac_bits!r}")
    items = list(np.asarray(frac_bits).reshape(-1)) if isinstance(frac_bits, np.ndarray) \
        else list(frac_bits)
    if np.ndim(frac_bits) != 1:
        raise ValueError(f"frac_bits must be one integer or a 1-D sequence, "
                         f"not an array of shape {np.shape(frac_bits)}")
    if len(items) != lanes:
        raise ValueError(f"frac_bits has {len(items)} entries but there are {lanes} lanes: "
                         f"give one integer or one per lane, not {list(items)!r}")
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (numbers.Integral,
                                                                        np.integer)):
            raise TypeError(f"frac_bits entries must be integers, not {item!r} "
                            f"in {list(items)!r}")
        if not -limit <= int(item) <= limit:
            raise ValueError(f"frac_bits entries must be in [-{limit}, {limit}], "
                             f"not {int(item)} in {[int(i) for i in items]!r}")
    array = np.array([int(i) for i in items], dtype=np.int64)
    array.setflags(write=False)
    return array


def check_mask(mask, shape: tuple[int, ...]) -> np.ndarray | None:
    """Validate a mask for an input of ``shape``; ``True`` (or 1) marks an absent element.

    ``mask`` is None (every element present) or a boolean or 0/1 integer array-like that
    broadcasts to ``shape`` without changing it (one mask per row of shape ``(n,)``, one per
    element, a column per row, ...). Returns None or a read-only boolean array of ``shape``
    (a broadcast view: no copy).
    """
    if mask is None:
        return None
    array = np.asarray(mask)
    if array.dtype.kind in "iu":
        if not np.all((array == 0) | (array == 1)):
            raise ValueError(f"mask must be boolean or 0/1 (True or 1 = absent), not integers "
                             f"{_preview(array[(array != 0) & (array != 1)])}")
        array = array.astype(np.bool_)
    elif array.dtype.kind != "b":
        raise TypeError(f"mask must be a boolean array (True = absent), not {array.dtype} "
                        f"({_preview(array)})")
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(f"mask must broadcast to the input's shape {tuple(shape)}, "
                         f"not shape {array.shape}") from None


def _preview(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), threshold=8, edgeitems=3)


def max_buffer_bitwidth(round_log2: str) -> int:
    """Largest supported buffer_bitwidth for a round_log2 mode.

    The quantizeml threshold table was measured for sums below 2**32 (k <= 31), so
    "quantizeml" stops at 33 bits; "exact" stops where the sum would no longer fit int64.
    """
    return 33 if round_log2 == "quantizeml" else 62


def check_shiftmax_params(*, exp_bitwidth, buffer_bitwidth, round_log2, n=None):
    """Validate the arithmetic parameters of a shiftmax; returns them as a tuple.

    ``buffer_bitwidth`` (B, sign bit included, like quantizeml) must satisfy B >= 2e + 2,
    which is quantizeml's ``buffer_bitwidth - 1 > 2 * exp_bitwidth``: the largest exponent
    term 2**(2e) must fit the sum.
    """
    check_choice("round_log2", round_log2, ROUND_LOG2_MODES)
    e = check_int("exp_bitwidth", exp_bitwidth, 1)
    b = check_int("buffer_bitwidth", buffer_bitwidth)
    if b < 2 * e + 2:
        raise ValueError(
            f"buffer_bitwidth must be at least 2*exp_bitwidth + 2 = {2 * e + 2} "
            f"(exp_bitwidth={e}), not {b}"
        )
    if b > max_buffer_bitwidth(round_log2):
        raise ValueError(f"buffer_bitwidth must be at most {max_buffer_bitwidth(round_log2)} "
                         f"with round_log2={round_log2!r}, not {b}")
    if n is not None:
        n = check_int("n", n, 1)
        # The sum of n terms of at most 2**(2e) must not leave int64 before it is clamped.
        if n.bit_length() + 2 * e > 62:
            raise ValueError(f"n={n} lanes with exp_bitwidth={e} would overflow the 64-bit sum")
    return e, b, round_log2
