"""``out[i] = p[i] >> (R - e)``: the output shift, as a one-hot decoder."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int

from .pipeline import copies_shape, lane_copy, lanes, register, unsigned_bits, wire

__all__ = ["OutputShift"]


class OutputShift(wiring.Component):
    """The output lanes: ``p[i] >> (R - e)`` without a barrel shifter.

    Since ``p[i] = 2**(2e - d[i])`` (or 0 when ``d[i] > 2e``) and ``R >= 2e``,
    ``p[i] >> (R - e) = 2**(t - d[i])`` when ``d[i] <= t`` and 0 otherwise, with the shared
    ``t = 3e - R`` (at most ``e``). So output bit ``j`` of lane ``i`` is set exactly when
    ``d[i] == t - j``. Bit-identical to the golden ``output_shift``.

    Architecture: per lane ``v = t - d[i]`` with the shared ``t = 3e - R`` from
    :class:`RoundLog2` (one short carry chain, no clamp: ``v <= e`` always and a negative
    ``v`` means zero), then the decoder ``out = (v >= 0) ? 1 << v[:bits(e)] : 0``, one LUT
    per output bit, no multiplexers. With ``register_inside`` the sign and low bits of ``v``
    (``bits(e) + 1`` per lane) are registered between the two, so each half is a short step.
    (An equality form, ``d[i] == t - j`` against shared precomputed targets, avoids the carry
    chain but costs twice the LUTs and was measured no faster.)

    Number format: ``distance`` lanes unsigned (exact up to ``2e``, anything above means a
    zero term); ``shift`` two's complement ``t = 3e - R <= e``; ``output`` lanes unsigned ``e + 1``
    bits, zero or a power of two, ``e`` fractional bits (``2**e`` is 1.0).

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    exp_bitwidth : int
        ``e``, at least 1.
    distance_bits : int
        Width of a distance lane.
    shift_bits : int
        Width of ``t`` (signed).
    register_inside : bool
        Register ``v`` between the subtraction and the decoder (one more cycle, shorter
        steps).
    copies : int
        Copies of ``t`` the caller gives (default 1; lane ``i`` reads copy
        ``copy_of(i, n, copies)``, as in :class:`~shiftmax.hw.distance.Distance`).

    Members
    -------
    distance : In(ArrayLayout(distance_bits, n))
    shift : In(signed(shift_bits)), or In(ArrayLayout(signed(shift_bits), copies))
        ``t = 3e - R`` of the same beat as ``distance`` (both arrive together).
    output : Out(ArrayLayout(e + 1, n))

    Latency
    -------
    ``register_inside`` (1 or 0).
    """

    def __init__(self, *, n: int, exp_bitwidth: int, distance_bits: int,
                 shift_bits: int, register_inside: bool = False, copies: int = 1) -> None:
        self._n = check_int("n", n, 1)
        self._exp_bitwidth = check_int("exp_bitwidth", exp_bitwidth, 1)
        self._distance_bits = check_int("distance_bits", distance_bits, 1)
        self._shift_bits = check_int("shift_bits", shift_bits, 2)
        if not isinstance(register_inside, bool):
            raise TypeError(f"register_inside must be True or False, not {register_inside!r}")
        self._register_inside = register_inside
        self._copies = check_int("copies", copies, 1, self._n)
        super().__init__({
            "distance": In(data.ArrayLayout(self._distance_bits, self._n)),
            "shift": In(copies_shape(signed(self._shift_bits), self._copies)),
            "output": Out(data.ArrayLayout(self._exp_bitwidth + 1, self._n)),
        })

    @property
    def latency(self) -> int:
        return int(self._register_inside)

    def elaborate(self, platform) -> Module:
        m = Module()
        e = self._exp_bitwidth
        low_bits = unsigned_bits(e)
        stride = low_bits + 1
        # Per lane: the low bits of v = t - d[i] and its sign, as the carry chain ends (the
        # decoder inverts it, so no LUT follows the chain).
        fields = []
        for lane in range(self._n):
            shift = lane_copy(self.shift, lane, self._n, self._copies)
            v = wire(m, shift - self.distance[lane], name=f"v{lane}")
            fields.append(Cat(v[:low_bits], v[-1]))
        fields = wire(m, Cat(*fields), name="fields")
        if self._register_inside:
            fields = register(m, fields, name="fields_r")
        outputs = []
        for lane in range(self._n):
            low = fields[lane * stride:lane * stride + low_bits]
            negative = fields[lane * stride + low_bits]
            # 1 << low is the decoder (v <= e always); a negative v gives 0.
            outputs.append((Const(1, e + 1) << low)[:e + 1] & ~negative.replicate(e + 1))
        m.d.comb += self.output.eq(lanes(outputs, e + 1))
        return m
