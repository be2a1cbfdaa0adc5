"""``R = k + (S >= T[k])`` with ``k = floor(log2(S))``: the sum rounded to a power of two."""

from __future__ import annotations

from functools import reduce
from operator import or_

from amaranth.hdl import Cat, Const, Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int, check_shiftmax_params
from shiftmax.golden.round_log2 import round_log2_thresholds

from .adder_tree import sum_bits
from .pipeline import register, unsigned_bits, wire

__all__ = ["RoundLog2"]

#: With ``register_inside``, threshold compares at least this wide are split in two halves.
SPLIT_COMPARE_BITS = 12


class RoundLog2(wiring.Component):
    """Round the saturated sum ``S`` to the exponent ``R`` of the nearest power of two.

    The rule is the golden ``round_log2``: ``k`` is the leading-one position of ``S`` and
    ``R = k + (S >= T[k])`` with the threshold table of the chosen mode (``"exact"``: akida
    2.14, ``"quantizeml"``: quantizeml 0.17.1), from ``shiftmax.golden.round_log2_thresholds``.

    Architecture: since ``S >= 2**(2e)`` (the maximum lane always contributes ``2**(2e)``),
    only the binades ``k = 2e .. width - 1`` exist. A leading-one detector gives a one-hot
    ``hit[k] = S[k] & ~S[k+1:]``; in parallel each binade compares only the bits below its
    leading one with ``T[k] - 2**k``, and drops the low bits where that constant has trailing
    zeros (``S >= T`` then depends on the upper bits alone). ``R`` is the OR over binades of
    ``hit[k] ? k + up[k] : 0``: constants selected by one-hot bits, no adder; ``t = 3e - R``
    is selected alongside in the same way.

    With ``dropped_bits = z`` the sum comes without its ``z`` low bits (zero in every term, see
    :mod:`shiftmax.golden.term_precision`): a compare then reads only the bits above them, against
    its constant rounded up to a multiple of ``2**z``.

    Number format: ``total`` unsigned, ``sum_bits(n, e, B, z)`` wide, ``S / 2**z`` with ``S`` in
    ``[2**(2e), 2**(B-1)-1]``;
    ``log2`` unsigned, enough bits for ``R <= sum_bits`` (``R >= 2e``).

    Parameters
    ----------
    n : int
        Lanes (sets the width of the sum), at least 1.
    exp_bitwidth : int
        ``e``.
    buffer_bitwidth : int
        ``B``, ``>= 2e + 2``.
    round_log2 : {"exact", "quantizeml"}
        The threshold table.
    register_inside : bool
        Register the per-binade hit and round-up bits before the selection of ``R`` (one more
        cycle, a shorter path); a wide threshold compare is then split into two halves
        whose results are registered and combined in the selection cycle.
    dropped_bits : int
        ``z``, 0 to ``e`` (default 0).

    Members
    -------
    total : In(sum_bits)
    log2 : Out(unsigned_bits(sum_bits))
        ``R``.
    shift : Out(signed(shift_bits))
        ``t = 3e - R`` (at most ``e``), selected the same way as ``R``: what the output stage
        needs, without a subtractor in its path.

    Latency
    -------
    ``register_inside`` (1 or 0).
    """

    def __init__(self, *, n: int, exp_bitwidth: int, buffer_bitwidth: int,
                 round_log2: str = "exact", register_inside: bool = False,
                 dropped_bits: int = 0) -> None:
        self._n = check_int("n", n, 1)
        self._exp_bitwidth, self._buffer_bitwidth, self._mode = check_shiftmax_params(
            exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth, round_log2=round_log2,
            n=self._n)
        if not isinstance(register_inside, bool):
            raise TypeError(f"register_inside must be True or False, not {register_inside!r}")
        self._register_inside = register_inside
        e = self._exp_bitwidth
        self._dropped_bits = check_int("dropped_bits", dropped_bits, 0, e)
        self._sum_bits = sum_bits(self._n, e, self._buffer_bitwidth)
        self._out_bits = unsigned_bits(self._sum_bits)
        self._shift_bits = unsigned_bits(max(e, self._sum_bits - 3 * e)) + 1
        super().__init__({"total": In(self._sum_bits - self._dropped_bits),
                          "log2": Out(self._out_bits),
                          "shift": Out(signed(self._shift_bits))})

    @property
    def out_bits(self) -> int:
        return self._out_bits

    @property
    def shift_bits(self) -> int:
        return self._shift_bits

    @property
    def latency(self) -> int:
        return int(self._register_inside)

    def _at_least(self, m: Module, bits, constant: int, name: str):
        """``bits >= constant``; with ``register_inside`` split in two registered halves.

        The upper and lower halves are compared separately (``upper > C_hi``,
        ``upper == C_hi``, ``lower >= C_lo``), the three bits registered, and combined after
        the register: two carry chains of half the length in the first cycle, one LUT in
        the second.
        """
        width = len(bits)
        if not self._register_inside or width < SPLIT_COMPARE_BITS:
            result = bits >= Const(constant, width)
            return register(m, result, name=name) if self._register_inside else result
        low_bits = width // 2
        low_constant, high_constant = constant & ((1 << low_bits) - 1), constant >> low_bits
        high = bits[low_bits:]
        above = register(m, high > Const(high_constant, width - low_bits), name=f"{name}_above")
        equal = register(m, high == Const(high_constant, width - low_bits), name=f"{name}_equal")
        low = register(m, bits[:low_bits] >= Const(low_constant, low_bits), name=f"{name}_low")
        return wire(m, above | (equal & low), name=name)

    def elaborate(self, platform) -> Module:
        m = Module()
        table = round_log2_thresholds(self._mode)
        dropped = self._dropped_bits
        total = Cat(Const(0, dropped), self.total)  # S, its dropped bits zero
        width = self._sum_bits
        binades = range(2 * self._exp_bitwidth, width)
        hits, round_ups = [], []
        for k in binades:
            # hit: the leading one is at k (bits above it are zero; bit 2e is set in any S).
            upper = total[k + 1:]
            hit = ~upper.any() if k == 2 * self._exp_bitwidth else total[k] & ~upper.any()
            offset = int(table[k]) - (1 << k)  # S >= T[k]  <=>  S[:k] >= offset
            if offset <= 0:
                round_up = Const(1, 1)
            elif offset >= 1 << k:
                round_up = Const(0, 1)
            else:
                # Bits below the constant's trailing zeros, or dropped, decide nothing.
                low = max((offset & -offset).bit_length() - 1, dropped)
                constant = -(-offset >> low)
                round_up = (Const(0, 1) if constant >> (k - low) else
                            self._at_least(m, total[low:k], constant, f"round_up{k}"))
            hits.append(hit)
            round_ups.append(round_up)
        hits, round_ups = Cat(*hits), Cat(*round_ups)
        if self._register_inside:
            # The leading-one detector ends here; the selection starts anew.
            hits = register(m, hits, name="hits")

        def select(value_of, shape):
            # One binade hits: OR the constants its hit bit selects (no adder, no chain).
            return reduce(or_, [Mux(hits[i], Mux(round_ups[i], Const(value_of(k + 1), shape),
                                                 Const(value_of(k), shape)), Const(0, shape))
                                for i, k in enumerate(binades)])

        e3 = 3 * self._exp_bitwidth
        m.d.comb += [self.log2.eq(select(lambda r: r, unsigned(self._out_bits))),
                     self.shift.eq(select(lambda r: e3 - r, signed(self._shift_bits)))]
        return m
