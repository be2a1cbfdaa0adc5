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
    indices = _ranking(values, mask, k)
    return indices, np.take_along_axis(values, indices, axis=-1)


def _ranking(values: np.ndarray, mask: np.ndarray | None, k: int) -> np.ndarray:
    """The lanes of the ``k`` first elements of each row in the ranking, in order (int64)."""
    n = values.shape[-1]
    lanes = np.arange(n, dtype=np.int64)
    low, high = int(values.min()), int(values.max())
    span = high - low
    if (span + 2) * n >= 1 << 62:
        # Values too spread for one composite key: a stable sort on ~v (= -v - 1, strictly
        # decreasing and free of overflow) keeps the lower index first among equal values.
        key = np.invert(values)
        if mask is None:
            order = np.argsort(key, axis=-1, kind="stable")
        else:
            # Present before masked; masked lanes all tie on the value and keep index order.
            order = np.lexsort((np.where(mask, 0, key), mask), axis=-1)
        return order[..., :k].astype(np.int64, copy=False)
    # One unique key per lane, ascending in rank: (high - v) * n + lane for present lanes,
    # after every one of them (span + 1) * n + lane for masked ones. Unique keys make a
    # partial sort (argpartition) exact, which is several times faster than a full sort.
    key = (high - values) * n + lanes
    if mask is not None:
        key = np.where(mask, (span + 1) * n + lanes, key)
    if k < n:
        part = np.argpartition(key, k - 1, axis=-1)[..., :k]
        order = np.take_along_axis(part, np.argsort(np.take_along_axis(key, part, axis=-1),
                                                    axis=-1), axis=-1)
    else:
        order = np.argsort(key, axis=-1)
    return order.astype(np.int64, copy=False)
