"""``d[i] = min(M - xf[i], 2e + 1)``: each lane's distance below the maximum, saturated."""

from __future__ import annotations

from amaranth.hdl import Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int

from .pipeline import copies_shape, lane_copy, lanes, register, unsigned_bits, wire

__all__ = ["Distance", "distance_bits"]


def distance_bits(width: int, exp_bitwidth: int) -> int:
    """Unsigned bits of a saturated distance: it holds ``min(2**width - 1, 2e + 1)``."""
    return unsigned_bits(min((1 << width) - 1, 2 * exp_bitwidth + 1))


class Distance(wiring.Component):
    """How far each lane lies below the maximum, saturated beyond ``2e``.

    Every distance beyond ``2e`` gives a zero exponent term (and a zero output), so the later
    stages need the distance only up to ``2e + 1``: it fits ``ceil(log2(2e + 2))`` bits (5 for
    e = 10) instead of the full difference, which keeps the per-lane delay lines and the
    decoders downstream narrow. The output is exact for ``d <= 2e`` and some value in
    ``[2e + 1, 2**distance_bits - 1]`` otherwise.

    Architecture: one subtractor per lane (never negative, so its upper bits are just dropped)
    and, when the difference can exceed the output width, an OR of the dropped bits forced
    onto every kept bit (saturation to all ones, one LUT level after the carry chain instead of
    a compare and a multiplexer). With ``register_inside`` the raw differences are registered
    before the saturation: the subtractors, fed by the one shared maximum that fans out to
    every lane, then end at a register, and the saturation starts the next cycle.

    Number format: ``maximum`` and ``values`` are ``width``-bit two's complement integers with
    ``maximum >= values[i]``; ``distance`` lanes are unsigned, :func:`distance_bits` wide
    (``width`` without ``saturate``).

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    width : int
        Bits of a floored lane, sign included.
    exp_bitwidth : int
        ``e``: distances saturate at ``2e + 1``.
    register_inside : bool
        Register the raw differences before the saturation (one more cycle, a shorter path).
    saturate : bool
        Saturate (default True); False gives the raw differences, ``width`` bits, for a
        caller to whom one more bit per lane costs less than the saturation's LUTs.
    copies : int
        Copies of the maximum the caller gives (default 1), e.g. from
        :func:`~shiftmax.hw.pipeline.replicas`: lane ``i`` reads copy
        ``copy_of(i, n, copies)``, so that no register fans out to every lane.

    Members
    -------
    maximum : In(signed(width)), or In(ArrayLayout(signed(width), copies)) for copies > 1
    values : In(ArrayLayout(signed(width), n))
    distance : Out(ArrayLayout(distance_bits, n))

    Latency
    -------
    ``register_inside`` (1 or 0).
    """

    def __init__(self, *, n: int, width: int, exp_bitwidth: int,
                 register_inside: bool = False, saturate: bool = True, copies: int = 1) -> None:
        self._n = check_int("n", n, 1)
        self._width = check_int("width", width, 1)
        self._exp_bitwidth = check_int("exp_bitwidth", exp_bitwidth, 1)
        for name, value in (("register_inside", register_inside), ("saturate", saturate)):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be True or False, not {value!r}")
        self._register_inside = register_inside
        self._copies = check_int("copies", copies, 1, self._n)
        self._out_bits = distance_bits(self._width, self._exp_bitwidth) if saturate \
            else self._width
        super().__init__({
            "maximum": In(copies_shape(signed(self._width), self._copies)),
            "values": In(data.ArrayLayout(signed(self._width), self._n)),
            "distance": Out(data.ArrayLayout(self._out_bits, self._n)),
        })

    @property
    def out_bits(self) -> int:
        return self._out_bits

    @property
    def latency(self) -> int:
        return int(self._register_inside)

    def elaborate(self, platform) -> Module:
        m = Module()
        bits = self._out_bits
        distances = []
        for lane in range(self._n):
            maximum = lane_copy(self.maximum, lane, self._n, self._copies)
            difference = wire(m, (maximum - self.values[lane]).as_unsigned()[:self._width],
                              name=f"difference{lane}")
            if self._register_inside:
                difference = register(m, difference, name=f"difference{lane}_r")
            if self._width > bits:
                difference = difference[:bits] | difference[bits:].any().replicate(bits)
            distances.append(difference)
        m.d.comb += self.distance.eq(lanes(distances, self._out_bits))
        return m
