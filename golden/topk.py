"""top-K over the lanes: the k largest elements of each row, largest first, lower index on ties."""

from __future__ import annotations

import numpy as np

from .argmax import lane_values
from .params import check_int, check_mask

__all__ = ["topk"]

_INT64 = np.iinfo(np.int64)


def topk(x, k: int, *, mask=None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest lanes of each row: their indices and their values.

    The order is the one argmax uses, extended to a ranking: larger values first, and among
    equal values the lower index first, so ``topk(x, 1)[0][..., 0] == argmax(x)``.

    Parameters
    ----------
    x : FixedPoint or integer array-like
        Lanes on the last axis, compared as integers (per-lane ``frac_bits`` are ignored, as
        in argmax). A raw array's values must fit int64, since they are returned.
    k : int
        How many lanes to return, ``1 <= k <= n``.
    mask : bool array-like broadcastable to ``x``'s shape, or None
        ``True`` (or 1) marks an absent element: every present element ranks above every
        masked one, and masked elements rank among themselves by index (lower first),
        whatever their values. So a row with fewer than ``k`` present elements lists its
        present ones first (largest first) and then masked ones in increasing index order;
        the hardware flags such rows on ``m_axis_tuser``.

    Returns
    -------
    (indices, values) : two int64 arrays of shape ``x.shape[:-1] + (k,)``
        ``indices[..., i]`` is the lane of the i-th largest element (i = 0 the largest);
        ``values[..., i]`` is that lane's input integer as it came (a FixedPoint's
        ``.values``, not floored), masked lanes included.

    Raises
    ------
    TypeError, ValueError
        Naming the parameter and the value: ``x`` not integers or without lanes, ``k`` not an
        integer in ``[1, n]``, a mask that is not boolean/0-1 or does not broadcast to ``x``.
    """
    values = lane_values(x)
    n = values.shape[-1]
    k = check_int("k", k)
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, n] with n = {n} lanes, not {k}")
    mask = check_mask(mask, values.shape)
    if values.dtype.kind in "uO":
        if np.any(values > _INT64.max) or np.any(values < _INT64.min):
            raise ValueError(f"x values must fit int64 for topk, which returns them; "
                             f"the largest is {values.max()}, the smallest {values.min()}")
    values = values.astype(np.int64, copy=False)
    # ~v = -v - 1 is strictly decreasing and never overflows: sorting it ascending, stably,
    # puts larger values first and keeps the lower index first among equal values.
    key = np.invert(values)
    if mask is None:
        order = np.argsort(key, axis=-1, kind="stable")
    else:
        # Primary key: present before masked; secondary: the value for present lanes only,
        # so masked lanes tie and keep their index order.
        order = np.lexsort((np.where(mask, 0, key), mask), axis=-1)
    indices = order[..., :k].astype(np.int64, copy=False)
    return indices, np.take_along_axis(values, indices, axis=-1)
