"""The max-reduce tree of the shiftmax: ``M = max(xf)`` over the floored lanes."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int

from .pipeline import (
    TreeItem,
    check_pipeline_params,
    is_greater,
    reduce_tree,
    tree_latency,
)

__all__ = ["MaxTree"]


class MaxTree(wiring.Component):
    """The largest of ``n`` signed lanes.

    Architecture: a balanced tree of two-input compare-select nodes,
    ``Mux(right > left, right, left)`` with the compare taken from the sign of
    ``left - right`` (Yosys maps that to one plain carry chain, then one multiplexer per
    bit), ``ceil(log2(n))`` levels, pipelined by ``register_every`` (see
    ``shiftmax.hw.pipeline``).

    Number format: lanes and result are ``width``-bit two's complement integers.

    Parameters
    ----------
    n : int
        Lanes, at least 1 (one lane is its own maximum: no logic).
    width : int
        Bits per lane, sign included (at least 1).
    register_every : int
        A register after every K tree levels (0: combinational).

    Members
    -------
    values : In(ArrayLayout(signed(width), n))
    maximum : Out(signed(width))

    Latency
    -------
    ``(ceil(log2(n)) - 1) // register_every`` (0 for ``register_every = 0``); the result is
    not registered.
    """

    def __init__(self, *, n: int, width: int, register_every: int = 0) -> None:
        self._n = check_int("n", n, 1)
        self._width = check_int("width", width, 1)
        self._register_every, _ = check_pipeline_params(register_every, False)
        super().__init__({
            "values": In(data.ArrayLayout(signed(self._width), self._n)),
            "maximum": Out(signed(self._width)),
        })

    @property
    def latency(self) -> int:
        return tree_latency(self._n, self._register_every)

    def elaborate(self, platform) -> Module:
        m = Module()

        def larger(group: list[TreeItem], level: int) -> TreeItem:
            if len(group) == 1:
                return group[0]
            (left,), (right,) = group
            return (Mux(is_greater(right, left), right, left),)

        leaves = [(self.values[k],) for k in range(self._n)]
        (maximum,) = reduce_tree(m, leaves, larger, register_every=self._register_every,
                                 name="max")
        m.d.comb += self.maximum.eq(maximum)
        return m
