"""Which low bits of the exponent terms the sum can leave out, exactly.

The sum ``S`` feeds only :class:`RoundLog2`, and ``R`` changes only where ``S`` crosses a
rounding boundary (a threshold ``T[k]``, or a power of two the table never rounds up to). The
smallest terms (lanes far below the maximum) are worth less than one unit of the kept bits
each; when no sum that ``n`` lanes can reach lies close enough below a boundary for them to
cross it, they decide no ``R`` of any row, and the hardware need not build them.

:func:`unneeded_term_bits` finds how many low bits ``z`` of every term that is, per
configuration, from the reachable sums (no enumeration of rows: a test checks it against
every row of small configurations). Leaving them out is exact: the outputs come from the
distances and ``R`` alone, and ``R`` of the truncated sum equals ``R`` of the exact sum on
every row. The one-beat ``shiftmax.hw.Shiftmax`` builds its terms, adder tree and
``RoundLog2`` without them; the directed compare rows (``shiftmax.sim.directed``) aim at the
compares it then makes.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .round_log2 import round_log2, round_log2_thresholds

__all__ = ["unneeded_term_bits", "rounding_boundaries"]


def rounding_boundaries(n: int, exp_bitwidth: int, buffer_bitwidth: int,
                        mode: str) -> list[int]:
    """The sums ``b`` with ``R(b) != R(b - 1)`` above ``2**(2e)`` that ``n`` terms can reach."""
    table = round_log2_thresholds(mode)
    two_e = 2 * exp_bitwidth
    largest = min(n << two_e, (1 << (buffer_bitwidth - 1)) - 1)
    candidates = sorted({value for k in range(two_e, min(largest.bit_length(), len(table)))
                         for value in (1 << k, int(table[k])) if 1 << two_e < value <= largest})
    if not candidates:
        return []
    values = np.array(candidates, dtype=np.int64)
    changes = round_log2(values, mode) != round_log2(values - 1, mode)
    return [value for value, change in zip(candidates, changes, strict=True) if change]


def _fewest_terms(rest: int, top: int) -> int:
    """Fewest powers of two, none above ``2**top``, that add up to ``rest``."""
    return (rest >> top) + bin(rest & ((1 << top) - 1)).count("1")


def _crossable(boundary: int, n: int, exp_bitwidth: int, dropped: int) -> bool:
    """Whether dropping the lowest ``dropped`` bits of every term can move a reachable sum
    from at or above ``boundary`` to below it.

    In units of ``u = 2**dropped``, the lanes at distance ``d <= D = 2e - dropped`` (``h`` of
    them, the maximum among them) add up to ``s = 2**D + r``, ``r`` a sum of exactly
    ``h - 1`` powers of two up to ``2**D``; the other ``n - h`` lanes add at most
    ``(n - h) * u / 2``, the part truncation loses. A boundary is crossed when some such
    ``s`` lies below it by ``g = boundary - u * s > 0`` with ``(n - h) * u >= 2 * g``.
    """
    unit = 1 << dropped
    top = 2 * exp_bitwidth - dropped
    first = max(1 << top, -(-(2 * boundary - (n - 1) * unit) // (2 * unit)))
    for s in range(first, -(-boundary // unit)):
        rest = s - (1 << top)
        gap = boundary - unit * s
        most_lanes = min(n - -(-2 * gap // unit), rest + 1)
        if max(1, _fewest_terms(rest, top) + 1) <= most_lanes:
            return True
    return False


@cache
def unneeded_term_bits(n: int, exp_bitwidth: int, buffer_bitwidth: int, mode: str) -> int:
    """How many low bits of every exponent term no rounding of a reachable sum needs.

    The largest ``z`` for which leaving out term bits ``0 .. z - 1`` (every lane at a
    distance beyond ``2e - z`` then adds nothing) crosses no rounding boundary of the mode for
    any row of ``n`` lanes, masked lanes included (they add nothing either). 0 when the sum
    can reach the clamp ``2**(B-1) - 1`` (the clamp then decides ``R`` as well), and at most
    ``e``: the outputs of lanes beyond distance ``e`` are 0 anyway.
    """
    two_e = 2 * exp_bitwidth
    if n << two_e > (1 << (buffer_bitwidth - 1)) - 1:
        return 0
    boundaries = rounding_boundaries(n, exp_bitwidth, buffer_bitwidth, mode)
    dropped = 0
    while dropped < exp_bitwidth and not any(
            _crossable(b, n, exp_bitwidth, dropped + 1) for b in boundaries):
        dropped += 1
    return dropped
