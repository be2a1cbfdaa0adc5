"""``p[i] = 2**(2e - d[i])`` (zero beyond ``d = 2e``): the exponent terms as one-hot words."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int

from .pipeline import lanes, wire

__all__ = ["ShiftExp"]


class ShiftExp(wiring.Component):
    """The exponent term of each lane: a power of two chosen by its distance.

    Architecture: a decoder per lane, ``2**(2e) >> d``: bit ``2e - d`` is set, and a distance
    beyond ``2e`` (the saturated "beyond the cut-off" value, or any larger one) shifts the one
    out, giving 0. No arithmetic at all. The upper ``split_terms`` term bits (the smallest
    distances) are instead decoded in two steps: one-hot decoders of the distance's low and
    high halves, then one AND per term bit. That costs LUTs on a 6-input-LUT fabric, but each
    distance bit then drives a few LUTs instead of one per term bit, which shortens the
    routing on a 4-input-LUT fabric (ECP5).

    With ``dropped_bits = z`` the lowest ``z`` term bits (distances beyond ``2e - z``) are not
    built: ``term`` holds bits ``z .. 2e`` (see :mod:`shiftmax.golden.term_precision`).

    Number format: ``distance`` lanes unsigned, ``distance_bits`` wide; ``term`` lanes unsigned
    ``2e + 1 - z`` bits, zero or a power of two, with ``2e - z`` fractional bits (``2**(2e-z)``
    is 1.0).

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    exp_bitwidth : int
        ``e``, at least 1.
    distance_bits : int
        Width of a distance lane, at least 1.
    split_terms : int
        Upper term bits decoded in two steps, 0 to ``2e + 1 - z`` (default 0).
    dropped_bits : int
        ``z``, the low term bits left out, 0 to ``2e`` (default 0).

    Members
    -------
    distance : In(ArrayLayout(distance_bits, n))
    term : Out(ArrayLayout(2e + 1 - z, n))

    Latency
    -------
    0 (combinational).
    """

    def __init__(self, *, n: int, exp_bitwidth: int, distance_bits: int,
                 split_terms: int = 0, dropped_bits: int = 0) -> None:
        self._n = check_int("n", n, 1)
        self._exp_bitwidth = check_int("exp_bitwidth", exp_bitwidth, 1)
        self._distance_bits = check_int("distance_bits", distance_bits, 1)
        self._dropped_bits = check_int("dropped_bits", dropped_bits, 0, 2 * self._exp_bitwidth)
        self._term_bits = 2 * self._exp_bitwidth + 1 - self._dropped_bits
        self._split_terms = check_int("split_terms", split_terms, 0, self._term_bits)
        super().__init__({
            "distance": In(data.ArrayLayout(self._distance_bits, self._n)),
            "term": Out(data.ArrayLayout(self._term_bits, self._n)),
        })

    latency = 0

    def elaborate(self, platform) -> Module:
        m = Module()
        top = 2 * self._exp_bitwidth
        direct = top + 1 - self._split_terms  # term bits below this are decoded directly
        low_bits = (self._distance_bits + 1) // 2
        low_mask = (1 << low_bits) - 1
        terms = []
        for lane in range(self._n):
            distance = self.distance[lane]
            shifted = Const(1 << top, top + 1) >> distance
            if direct > top:  # nothing split: no half decoders
                terms.append(shifted[self._dropped_bits:])
                continue
            # Half decoders, only of the values some split term bit needs.
            split = [top - bit for bit in range(max(direct, self._dropped_bits), top + 1)]
            low = {value: wire(m, distance[:low_bits] == value, name=f"low{lane}_{value}")
                   for value in sorted({d & low_mask for d in split})}
            high = {value: wire(m, distance[low_bits:] == value, name=f"high{lane}_{value}")
                    for value in sorted({d >> low_bits for d in split})}
            terms.append(Cat(*(shifted[bit] if bit < direct
                               else low[(top - bit) & low_mask] & high[(top - bit) >> low_bits]
                               for bit in range(self._dropped_bits, top + 1))))
        m.d.comb += self.term.eq(lanes(terms, self._term_bits))
        return m
