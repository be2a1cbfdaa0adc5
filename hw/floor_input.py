"""Stage 1 of the shiftmax: drop the fractional bits of every lane (floor), then clamp."""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Cat, Const, Module, Mux, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.fixedpoint import MAX_ABS_FRAC_BITS, MAX_VALUE_BITS
from shiftmax.golden.params import check_frac_bits, check_int

from .pipeline import lanes

__all__ = ["FloorInput", "lane_frac_bits", "floored_bits"]


def lane_frac_bits(frac_bits, n: int) -> list[int]:
    """Validated ``frac_bits`` (one int or one per lane) as a list of ``n`` ints."""
    checked = check_frac_bits(frac_bits, n, limit=MAX_ABS_FRAC_BITS)
    return [int(f) for f in checked] if hasattr(checked, "__len__") else [int(checked)] * n


def floored_bits(value_bits: int, frac_bits: Sequence[int]) -> int:
    """Two's complement width that holds every floored lane.

    A lane with ``f >= 0`` floors into ``[-2**(vb-f), 2**(vb-f) - 1]`` (``[-1, 0]`` once
    ``f > vb``), ``max(vb - f, 0) + 1`` bits; a lane with ``f < 0`` saturates to the full
    ``vb + 1`` bits.
    """
    return max(max(value_bits - f, 0) + 1 if f >= 0 else value_bits + 1 for f in frac_bits)


class FloorInput(wiring.Component):
    """``xf[i] = clamp(x[i] >> f[i], value_bits)``: the floor stage (pure wiring and a clamp).

    Architecture: for ``f >= 0`` the arithmetic right shift is a slice of the lane's upper
    bits (floor toward minus infinity for free; it cannot overflow). For ``f < 0`` the lane
    is shifted left by ``s = -f`` and saturates: the result is in range exactly when the top
    ``s + 1`` bits of the input are all equal (all zero or all one), otherwise it is
    ``-2**vb`` or ``2**vb - 1`` by the sign bit. No adders, no comparators.

    Number format: input lanes ``value_bits + 1``-bit two's complement with ``frac_bits[i]``
    fractional bits; output lanes integers (no fractional bits), two's complement,
    :func:`floored_bits` wide (sign-extended).

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    value_bits : int
        Magnitude bits, sign not counted (1 to 31).
    frac_bits : int or sequence of int
        One value for all lanes or one per lane, -31 to 31 (negative: a left shift).

    Members
    -------
    x : In(ArrayLayout(signed(value_bits + 1), n))
    floored : Out(ArrayLayout(signed(floored_bits), n))

    Latency
    -------
    0 (combinational).
    """

    def __init__(self, *, n: int, value_bits: int, frac_bits=0) -> None:
        self._n = check_int("n", n, 1)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._frac_bits = lane_frac_bits(frac_bits, self._n)
        self._out_bits = floored_bits(self._value_bits, self._frac_bits)
        super().__init__({
            "x": In(data.ArrayLayout(signed(self._value_bits + 1), self._n)),
            "floored": Out(data.ArrayLayout(signed(self._out_bits), self._n)),
        })

    @property
    def frac_bits(self) -> list[int]:
        return list(self._frac_bits)

    @property
    def out_bits(self) -> int:
        return self._out_bits

    latency = 0

    def elaborate(self, platform) -> Module:
        m = Module()
        vb = self._value_bits
        result = []
        for lane, f in enumerate(self._frac_bits):
            x = self.x[lane].as_unsigned()  # raw bits, sign at position vb
            if f >= 0:
                floored = x[min(f, vb):].as_signed()
            else:
                s = -f
                sign = x[vb]
                # The top s + 1 bits all equal the sign: the shifted value still fits.
                top = x[max(vb - s, 0):]
                fits = ~top.any() if s > vb else ~top.any() | top.all()
                kept = x[:max(vb + 1 - s, 0)]
                shifted = Cat(Const(0, min(s, vb + 1)), kept).as_signed()
                saturated = Mux(sign, Const(-(1 << vb), signed(vb + 1)),
                                Const((1 << vb) - 1, signed(vb + 1)))
                floored = Mux(fits, shifted, saturated)
            result.append(floored)
        m.d.comb += self.floored.eq(lanes(result, self._out_bits))
        return m
