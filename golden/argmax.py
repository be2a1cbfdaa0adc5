"""argmax over the lanes, lowest index on ties (numpy's and hls4ml's rule)."""

from __future__ import annotations

import numpy as np

from .fixedpoint import FixedPoint, integer_array
from .params import check_choice, check_mask

__all__ = ["argmax", "ARGMAX_OUTPUTS", "lane_values"]

#: The two output forms: the lane index, or a one-hot vector with a 1 at that lane.
ARGMAX_OUTPUTS = ("index", "onehot")


def lane_values(x) -> np.ndarray:
    """The integers that argmax and topk compare: a FixedPoint's values, or ``x`` checked.

    ``x`` must have at least one lane (last axis). A raw array keeps its integer type
    (``uint64`` and ``object`` arrays of Python integers included), so comparisons are exact.
    """
    if isinstance(x, FixedPoint):
        values = x.values
    else:
        try:
            shape = np.shape(x)
        except ValueError as error:
            raise ValueError(f"x must be a rectangular array of integers ({error})") from None
        # The lane count first: np.asarray([]) is float64, but the problem is the empty row.
        if len(shape) == 0 or shape[-1] == 0:
            raise ValueError(f"x must have at least one lane, not shape {shape}")
        values = integer_array(x, "x", expected="a FixedPoint or an integer array")
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError(f"x must have at least one lane, not shape {values.shape}")
    return values


def argmax(x, *, output: str = "index", mask=None) -> np.ndarray:
    """Index of the largest lane of each row; the lowest index among equal maxima.

    ``x`` is a FixedPoint or an integer array-like; lanes are compared as integers, so they
    must share one scale (per-lane ``frac_bits`` are ignored, as in hardware that reads the raw
    inputs). Raw arrays are compared exactly whatever their integer type (``uint64``, Python
    integers beyond 64 bits); a FixedPoint's values were clamped to its ``value_bits``.

    ``mask`` (a boolean or 0/1 array broadcastable to ``x``'s shape, ``True`` = absent): masked
    lanes rank below every present one, so the index is that of the largest present lane. A
    row with every lane masked gives index 0 (one-hot bit 0); the hardware flags such rows on
    ``m_axis_tuser``.

    Returns int64 indices of shape ``x.shape[:-1]`` for ``output="index"``, or a 0/1 int64
    array of ``x``'s shape with a single 1 per row for ``output="onehot"``.
    """
    check_choice("output", output, ARGMAX_OUTPUTS)
    values = lane_values(x)
    mask = check_mask(mask, values.shape)
    if mask is None:
        index = np.argmax(values, axis=-1).astype(np.int64)
    else:
        index = _masked_argmax(values, mask)
    if output == "index":
        return index
    lanes = np.arange(values.shape[-1], dtype=np.int64)
    return (lanes == index[..., np.newaxis]).astype(np.int64)


def _masked_argmax(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # Masked lanes take the smallest value of the whole array, so only a present lane holding
    # that same value can tie with them; there the first present lane is the answer (every
    # present lane of such a row holds the smallest value).
    lowest = values.min()
    index = np.argmax(np.where(mask, lowest, values), axis=-1)
    rows = np.take_along_axis(mask, index[..., np.newaxis], axis=-1)[..., 0]
    wrong = rows & ~mask.all(axis=-1)
    if np.any(wrong):
        index = np.where(wrong, np.argmax(~mask, axis=-1), index)
    return index.astype(np.int64)
