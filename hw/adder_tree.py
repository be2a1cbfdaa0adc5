"""``S = min(sum(p), 2**(B-1) - 1)``: the exact sum of the exponent terms, saturating."""

from __future__ import annotations

from functools import reduce
from operator import or_

from amaranth.hdl import Cat, Const, Module, Mux
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int, check_shiftmax_params

from .pipeline import TreeItem, check_pipeline_params, reduce_tree, tree_latency

__all__ = ["SaturatingAdderTree", "sum_bits"]


def sum_bits(n: int, exp_bitwidth: int, buffer_bitwidth: int, dropped_bits: int = 0) -> int:
    """Width of the saturated sum: ``min(B - 1, bits of n * 2**(2e))``, less the
    ``dropped_bits`` low bits that no term has."""
    return min(buffer_bitwidth - 1, n.bit_length() + 2 * exp_bitwidth) - dropped_bits


class SaturatingAdderTree(wiring.Component):
    """Sum of ``n`` exponent terms, exact up to ``2**(B-1) - 1`` and clamped there.

    Architecture: a balanced adder tree (pipelined by ``register_every``) whose words grow by
    one bit per level and only as far as needed. Its first level needs no adder: a term is
    zero or a single bit, so the sum of two is ``(a ^ b) | ((a & b) << 1)``, one LUT level
    (which keeps the exponent decoders and the first additions within one fast pipeline
    step). Word widths: a node over ``m`` terms of at most
    ``2**(2e)`` is ``ceil(log2(m)) + 2e + 1`` bits, so no node is wider than the sum can be.
    When the whole sum could exceed ``2**(B-1) - 1``, the words stop growing at ``B - 1`` bits:
    a node whose sum carries out of them raises an overflow flag, flags are ORed up the tree
    (an overflowed partial sum already forces the clamp, since terms are non-negative), and
    one multiplexer at the root selects ``2**(B-1) - 1``. Otherwise there is no clamp logic.

    With ``dropped_bits = z`` the terms come without their ``z`` low bits (all zero, see
    :mod:`shiftmax.golden.term_precision`), and so does ``total``: every word is ``z`` bits
    narrower and the clamp is ``2**(B-1-z) - 1``, the clamp's upper bits.

    Number format: ``term`` lanes unsigned ``2e + 1 - z`` bits (each at most ``2**(2e-z)``);
    ``total`` unsigned, :func:`sum_bits` wide (``min(B - 1, bits of n * 2**(2e)) - z``), in
    units of ``2**z``.

    Parameters
    ----------
    n : int
        Terms, at least 1.
    exp_bitwidth : int
        ``e``, at least 1.
    buffer_bitwidth : int
        ``B``: the sum saturates at ``2**(B-1) - 1``; ``B >= 2e + 2``.
    register_every : int
        A register after every K tree levels (0: combinational).
    dropped_bits : int
        ``z``, 0 to ``2e`` (default 0).

    Members
    -------
    term : In(ArrayLayout(2e + 1 - z, n))
    total : Out(sum_bits)

    Latency
    -------
    ``(ceil(log2(n)) - 1) // register_every`` (0 for ``register_every = 0``); the result is
    not registered.
    """

    def __init__(self, *, n: int, exp_bitwidth: int, buffer_bitwidth: int,
                 register_every: int = 0, dropped_bits: int = 0) -> None:
        self._n = check_int("n", n, 1)
        self._exp_bitwidth, self._buffer_bitwidth, _ = check_shiftmax_params(
            exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth, round_log2="exact",
            n=self._n)
        self._register_every, _ = check_pipeline_params(register_every, False)
        self._dropped_bits = check_int("dropped_bits", dropped_bits, 0, 2 * self._exp_bitwidth)
        self._out_bits = sum_bits(self._n, self._exp_bitwidth, self._buffer_bitwidth,
                                  self._dropped_bits)
        super().__init__({
            "term": In(data.ArrayLayout(2 * self._exp_bitwidth + 1 - self._dropped_bits,
                                        self._n)),
            "total": Out(self._out_bits),
        })

    @property
    def out_bits(self) -> int:
        return self._out_bits

    @property
    def latency(self) -> int:
        return tree_latency(self._n, self._register_every)

    def elaborate(self, platform) -> Module:
        m = Module()
        cap = self._buffer_bitwidth - 1 - self._dropped_bits

        def add(group: list[TreeItem], level: int) -> TreeItem:
            if len(group) == 1:
                return group[0]
            left, right = group
            if level == 1:
                # Two terms with at most one bit set each: equal bits carry one place up,
                # different bits just merge. One LUT level, no carry chain.
                a, b = left[0], right[0]
                total = Cat(a ^ b, Const(0, 1)) | Cat(Const(0, 1), a & b)
            else:
                total = left[0] + right[0]
            overflow = [*left[1:], *right[1:]]
            if len(total) > cap:
                overflow.append(total[cap:].any())
                total = total[:cap]
            return (total, reduce(or_, overflow)) if overflow else (total,)

        leaves = [(self.term[k],) for k in range(self._n)]
        root = reduce_tree(m, leaves, add, register_every=self._register_every, name="sum")
        total = root[0]
        if len(root) > 1:
            total = Mux(root[1], Const((1 << cap) - 1, cap), total)
        m.d.comb += self.total.eq(total[:self._out_bits])
        return m
