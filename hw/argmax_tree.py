"""The argmax tree: position of the largest of N signed lanes, lowest index on ties."""

from __future__ import annotations

from functools import reduce
from operator import and_, or_

from amaranth.hdl import Cat, Const, Module, Mux, Value, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out
from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_int

from .pipeline import (
    TreeItem,
    ceil_log2,
    check_pipeline_params,
    is_greater,
    reduce_tree,
    tree_latency,
    wire,
)

__all__ = ["ArgmaxTree"]


#: Children per node: a 4-input node needs 6 comparators but no multiplexer between them, and
#: its 4-to-1 value multiplexer is one LUT6 per bit (see the class docstring).
RADIX = 4


class ArgmaxTree(wiring.Component):
    """Index of the largest lane; the lowest index among equal maxima.

    Architecture: a balanced radix-4 tree. A node compares its (up to) four children pairwise,
    six comparators written ``later > earlier`` (strictly, so the earlier child wins on
    equality: ties resolve to the lowest index), and derives the winner ``w`` directly:
    child ``i`` wins when it beats every earlier child and no later child beats it. The two
    bits of ``w`` select the winner's value with a 4-to-1 multiplexer (one 6-input LUT per
    bit) and become the top two bits of the winner's index: since the item ``j`` of level
    ``l`` covers lanes ``[j * 4**l, (j + 1) * 4**l)``, the index is the concatenation of the
    select bits along the winning path, with no adders and no index constants. Compared with a
    binary tree of compare-select nodes, this removes every other level of value
    multiplexers, which dominate the area (the comparators map to carry chains at two bits per
    LUT). The root's value is unused and removed in synthesis.

    Number format: lanes are ``value_bits + 1``-bit two's complement integers; the index is
    unsigned, ``max(1, ceil(log2(n)))`` bits.

    Parameters
    ----------
    n : int
        Lanes, at least 2.
    value_bits : int
        Magnitude bits of a lane, sign not counted (1 to 31).
    register_every : int
        A pipeline register after every ``register_every`` levels of the radix-4 tree
        (0: combinational).

    Members
    -------
    values : In(ArrayLayout(signed(value_bits + 1), n))
        The lanes, lane 0 in the lowest bits.
    index : Out(max(1, ceil(log2(n))))
        Position of the (first) largest lane.

    Latency
    -------
    ``(ceil(log4(n)) - 1) // register_every`` cycles (0 when ``register_every`` is 0); the
    output is not registered.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range.
    """

    def __init__(self, *, n: int, value_bits: int, register_every: int = 0) -> None:
        self._n = check_int("n", n, 2)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._register_every, _ = check_pipeline_params(register_every, False)
        super().__init__({
            "values": In(data.ArrayLayout(signed(self._value_bits + 1), self._n)),
            "index": Out(self.index_bits),
        })

    @property
    def n(self) -> int:
        return self._n

    @property
    def value_bits(self) -> int:
        return self._value_bits

    @property
    def register_every(self) -> int:
        return self._register_every

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def latency(self) -> int:
        return tree_latency(self._n, self._register_every, RADIX)

    def elaborate(self, platform) -> Module:
        m = Module()

        def select(bits: list[Value], choices: list[Value]):
            """``choices[bits as a number]`` as a multiplexer tree (missing choices unused)."""
            if not bits:
                return choices[0]
            half = 1 << (len(bits) - 1)
            low, high = choices[:half], choices[half:]
            if not high:
                return select(bits[:-1], low)
            return Mux(bits[-1], select(bits[:-1], high), select(bits[:-1], low))

        def tournament(group: list[TreeItem], level: int) -> TreeItem:
            values = [item[0] for item in group]
            indices = [item[1] if len(item) > 1 else None for item in group]
            count = len(group)
            # beats[(i, j)], i < j: the later child j is strictly larger than the earlier i.
            beats = {(i, j): wire(m, is_greater(values[j], values[i]))
                     for i in range(count) for j in range(i + 1, count)}
            wins = []
            for k in range(count):
                terms = [beats[(i, k)] for i in range(k)]
                terms += [~beats[(k, j)] for j in range(k + 1, count)]
                wins.append(reduce(and_, terms, Const(1, 1)))
            # Two select bits: the winner's position in the group (the node's index bits).
            sel = [wire(m, reduce(or_, [wins[k] for k in range(count) if k >> bit & 1],
                                  Const(0, 1)))
                   for bit in range(2)]
            value = select(sel, values)
            if indices[0] is None:  # leaves: the index is the select bits alone
                return value, Cat(*sel)
            return value, Cat(select(sel, indices), *sel)

        leaves = [(self.values[k],) for k in range(self._n)]
        _, index = reduce_tree(m, leaves, tournament, register_every=self._register_every,
                               radix=RADIX, name="argmax")
        m.d.comb += self.index.eq(index[:self.index_bits])
        return m
