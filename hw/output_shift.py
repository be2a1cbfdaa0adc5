"""``out[i] = p[i] >> (R - e)``: the output shift, as a one-hot decoder."""

from __future__ import annotations

from amaranth.hdl import Const, Module, Mux
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from shiftmax.golden.params import check_int

from .pipeline import fit, lanes, unsigned_bits

__all__ = ["OutputShift"]


class OutputShift(wiring.Component):
    """The output lanes: ``p[i] >> (R - e)`` without a barrel shifter.

    Since ``p[i] = 2**(2e - d[i])`` (or 0 when ``d[i] > 2e``) and ``R >= 2e``,
    ``p[i] >> (R - e) = 2**(e - u - d[i])`` when ``u + d[i] <= e`` and 0 otherwise, with
    ``u = R - 2e``. So each lane needs only the small sum ``u + d[i]`` decoded into a one-hot
    ``2**e >> (u + d[i])``; ``u`` and ``d[i]`` saturate at ``e + 1`` first (both mean
    "zero output"), so that sum stays a few bits wide. Bit-identical to the golden
    ``output_shift``.

    Number format: ``distance`` lanes unsigned (saturated distances, up to ``2e + 1``);
    ``log2`` unsigned ``R`` in ``[2e, ...]``; ``output`` lanes unsigned ``e + 1`` bits,
    zero or a power of two, ``e`` fractional bits (``2**e`` is 1.0).

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    exp_bitwidth : int
        ``e``, at least 1.
    distance_bits : int
        Width of a distance lane.
    log2_bits : int
        Width of ``R``.

    Members
    -------
    distance : In(ArrayLayout(distance_bits, n))
    log2 : In(log2_bits)
    output : Out(ArrayLayout(e + 1, n))

    Latency
    -------
    0 (combinational).
    """

    def __init__(self, *, n: int, exp_bitwidth: int, distance_bits: int,
                 log2_bits: int) -> None:
        self._n = check_int("n", n, 1)
        self._exp_bitwidth = check_int("exp_bitwidth", exp_bitwidth, 1)
        self._distance_bits = check_int("distance_bits", distance_bits, 1)
        self._log2_bits = check_int("log2_bits", log2_bits, 1)
        super().__init__({
            "distance": In(data.ArrayLayout(self._distance_bits, self._n)),
            "log2": In(self._log2_bits),
            "output": Out(data.ArrayLayout(self._exp_bitwidth + 1, self._n)),
        })

    latency = 0

    def elaborate(self, platform) -> Module:
        m = Module()
        e = self._exp_bitwidth
        zero_out = e + 1  # any shift of e + 1 or more gives 0

        sum_bits = unsigned_bits(2 * zero_out)

        def saturate(value, largest: int):
            # Saturate at e + 1 and zero-extend to the width of the sum below.
            if largest > zero_out:
                value = Mux(value > Const(zero_out, len(value)), Const(zero_out, len(value)),
                            value)
            return fit(value, sum_bits)

        excess = (self.log2 - 2 * e).as_unsigned()[:self._log2_bits]
        excess = saturate(excess, (1 << self._log2_bits) - 1)
        outputs = []
        for lane in range(self._n):
            distance = saturate(self.distance[lane], (1 << self._distance_bits) - 1)
            outputs.append(Const(1 << e, e + 1) >> (excess + distance)[:sum_bits])
        m.d.comb += self.output.eq(lanes(outputs, e + 1))
        return m
