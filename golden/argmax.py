"""argmax over the lanes, lowest index on ties (numpy's and hls4ml's rule)."""

from __future__ import annotations

import numpy as np

from .fixedpoint import FixedPoint
from .params import check_choice

__all__ = ["argmax", "ARGMAX_OUTPUTS"]

#: The two output forms: the lane index, or a one-hot vector with a 1 at that lane.
ARGMAX_OUTPUTS = ("index", "onehot")


def argmax(x, *, output: str = "index") -> np.ndarray:
    """Index of the largest lane of each row; the lowest index among equal maxima.

    ``x`` is a FixedPoint or an integer array-like; lanes are compared as integers, so they
    must share one scale (per-lane ``frac_bits`` are ignored, as in hardware that reads the raw
    inputs). Returns int64 indices of shape ``x.shape[:-1]`` for ``output="index"``, or a 0/1
    array of ``x``'s shape with a single 1 per row for ``output="onehot"``.
    """
    check_choice("output", output, ARGMAX_OUTPUTS)
    if isinstance(x, FixedPoint):
        values = x.values
    else:
        values = np.asarray(x)
        if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"x must be a FixedPoint or an integer array, not {values.dtype}")
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError(f"x must have at least one lane, not shape {values.shape}")
    index = np.argmax(values, axis=-1).astype(np.int64)
    if output == "index":
        return index
    lanes = np.arange(values.shape[-1], dtype=np.int64)
    return (lanes == index[..., np.newaxis]).astype(np.int64)
