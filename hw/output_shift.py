"""``out[i] = p[i] >> (R - e)``: the output shift, as a one-hot decoder."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from shiftmax.golden.params import check_int

from .pipeline import lanes, register, unsigned_bits, wire

__all__ = ["OutputShift"]


class OutputShift(wiring.Component):
    """The output lanes: ``p[i] >> (R - e)`` without a barrel shifter.

    Since ``p[i] = 2**(2e - d[i])`` (or 0 when ``d[i] > 2e``) and ``R >= 2e``,
    ``p[i] >> (R - e) = 2**(t - d[i])`` when ``d[i] <= t`` and 0 otherwise, with the shared
    ``t = 3e - R`` (at most ``e``). Bit-identical to the golden ``output_shift``.

    Architecture: once per beat, ``t = 3e - R``, clamped to -1 when ``R > 3e`` (then every
    output is 0), a few bits wide; with ``register_inside`` it is registered here, which cuts
    the path from ``R`` in two. Per lane, ``v = t - d[i]`` (a short carry chain) and the
    decoder ``out bit j = (v >= 0) & (v[:bits(e)] == j)``: one LUT per output bit, no
    multiplexers and no saturation logic (a negative ``v`` means zero, and ``v <= e``).

    Number format: ``distance`` lanes unsigned (exact up to ``2e``, anything above means a
    zero term); ``log2`` unsigned ``R`` in ``[2e, ...]``; ``output`` lanes unsigned ``e + 1``
    bits, zero or a power of two, ``e`` fractional bits (``2**e`` is 1.0).

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
    register_inside : bool
        Register ``t`` before the per-lane logic (one more cycle, a shorter path).

    Members
    -------
    distance : In(ArrayLayout(distance_bits, n))
        Must arrive ``latency`` cycles after ``log2`` (they belong to the same beat).
    log2 : In(log2_bits)
    output : Out(ArrayLayout(e + 1, n))

    Latency
    -------
    ``register_inside`` (1 or 0) from ``log2`` to ``output``; ``distance`` to ``output`` is 0.
    """

    def __init__(self, *, n: int, exp_bitwidth: int, distance_bits: int,
                 log2_bits: int, register_inside: bool = False) -> None:
        self._n = check_int("n", n, 1)
        self._exp_bitwidth = check_int("exp_bitwidth", exp_bitwidth, 1)
        self._distance_bits = check_int("distance_bits", distance_bits, 1)
        self._log2_bits = check_int("log2_bits", log2_bits, 1)
        if not isinstance(register_inside, bool):
            raise TypeError(f"register_inside must be True or False, not {register_inside!r}")
        self._register_inside = register_inside
        super().__init__({
            "distance": In(data.ArrayLayout(self._distance_bits, self._n)),
            "log2": In(self._log2_bits),
            "output": Out(data.ArrayLayout(self._exp_bitwidth + 1, self._n)),
        })

    @property
    def latency(self) -> int:
        return int(self._register_inside)

    def elaborate(self, platform) -> Module:
        m = Module()
        e = self._exp_bitwidth
        low_bits = unsigned_bits(e)
        shift_shape = signed(low_bits + 1)
        top = 3 * e
        shift = Mux(self.log2 > top, Const(-1, shift_shape),
                    (Const(top, unsigned_bits(top)) - self.log2)[:low_bits + 1].as_signed())
        shift = wire(m, shift, name="shift")
        if self._register_inside:
            shift = register(m, shift, name="shift_r")
        outputs = []
        for lane in range(self._n):
            v = wire(m, shift - self.distance[lane], name=f"v{lane}")
            positive = ~v[-1]
            outputs.append(Cat(positive & (v[:low_bits] == j) for j in range(e + 1)))
        m.d.comb += self.output.eq(lanes(outputs, e + 1))
        return m
