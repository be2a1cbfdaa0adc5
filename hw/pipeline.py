"""Shared building blocks: bit-width arithmetic, pipeline registers and reduction trees.

Every reduction in the design (the max tree, the adder tree, the argmax tree) is a balanced
tree built by :func:`reduce_tree`; the pipelining rule lives here once:

- a tree of radix ``r`` (2 for every tree of the design; the helper takes any) over ``m``
  leaves has ``ceil(log_r(m))`` levels; at each level the items are grouped ``r`` at a time
  from the left and a short last group (even a single item) forms a node of its own, so the
  item ``j`` of level ``l`` always covers the leaves ``[j * r**l, (j + 1) * r**l)``;
- with ``register_every = K > 0`` a pipeline register follows every K-th level *inside* the
  tree (after levels K, 2K, ... below the last one); the tree's result itself is left
  unregistered, because the unit puts a stage register (or its output register) there;
- so a tree adds :func:`tree_latency` ``= (levels - 1) // K`` cycles (0 for K = 0 or a
  single level).

Pipeline registers carry data only: they have no reset (``reset_less``), which saves a
multiplexer per flip-flop; the valid bits that travel beside them are reset by the unit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from amaranth.hdl import Cat, Const, Module, Signal, Value
from amaranth.lib import data

from shiftmax.golden.params import check_int

__all__ = [
    "ceil_log2",
    "unsigned_bits",
    "tree_levels",
    "tree_latency",
    "is_greater",
    "fit",
    "lanes",
    "wire",
    "register",
    "delay",
    "LANES_PER_COPY",
    "copies_for",
    "copy_of",
    "copies_shape",
    "lane_copy",
    "replicas",
    "reduce_tree",
    "UnitProperties",
    "PipelinedUnit",
    "check_pipeline_params",
    "check_mask",
    "check_lanes_per_beat",
    "MAX_WIRE_BITS",
    "MAX_INPUT_BITS",
    "MAX_ONE_BEAT_LANES",
    "check_one_beat_size",
]

#: The widest wire Amaranth converts (``amaranth.back.rtlil`` refuses wider ones with an
#: OverflowError; Verilog-2005 tools need only support 2**16-bit vectors).
MAX_WIRE_BITS = 1 << 16
#: The most input-port bits a top module can have in all (Amaranth numbers them as the outputs
#: of one cell, and asserts fewer than 2**16): data, mask, clk, rst, tvalid and tready.
MAX_INPUT_BITS = (1 << 16) - 1
#: The most lanes a one-beat unit is built with: the elaboration time measured in
#: docs/flow-control.md grows about linearly with n and passes a minute beyond this.
MAX_ONE_BEAT_LANES = 2048

#: One node of a reduction tree: a tuple of values that travel together (e.g. value, index).
TreeItem = tuple[Value, ...]


def ceil_log2(value: int) -> int:
    """``ceil(log2(value))`` for ``value >= 1`` (0 for 1)."""
    return (value - 1).bit_length()


def unsigned_bits(maximum: int) -> int:
    """Bits of an unsigned number that must hold every value in ``[0, maximum]`` (at least 1)."""
    return max(1, maximum.bit_length())


def tree_levels(leaves: int, radix: int = 2) -> int:
    """Levels of ``radix``-input nodes in a balanced tree over ``leaves`` leaves."""
    levels = 0
    while radix ** levels < leaves:
        levels += 1
    return levels


def tree_latency(leaves: int, register_every: int, radix: int = 2) -> int:
    """Pipeline registers inside a tree over ``leaves`` leaves (see the module docstring)."""
    levels = tree_levels(leaves, radix)
    if register_every == 0 or levels <= 1:
        return 0
    return (levels - 1) // register_every


def fit(value, width: int) -> Value:
    """``value`` sign- or zero-extended (by its own signedness) or truncated to ``width`` bits."""
    value = Value.cast(value)
    if len(value) < width:
        fill = value[-1].replicate(width - len(value)) if value.shape().signed and len(value) \
            else Const(0, width - len(value))
        value = Cat(value, fill)
    return value[:width]


def lanes(values: Sequence, width: int) -> Value:
    """Pack per-lane values into one word, lane 0 lowest, each fitted to ``width`` bits.

    One assignment of the packed word instead of one per lane: Amaranth checks each
    assignment bit by bit over the whole target signal, which is quadratic for wide arrays.
    """
    return Cat(*(fit(v, width) for v in values))


def is_greater(left, right) -> Value:
    """``left > right`` for signed values, as the sign bit of ``right - left``.

    Yosys maps a comparison operator between signed values to a carry chain interleaved with
    LUTs; the sign of a difference is a plain carry chain (one step shorter on ECP5).
    """
    left, right = Value.cast(left), Value.cast(right)
    return (right.as_signed() - left.as_signed())[-1]


def wire(m: Module, value, *, name: str | None = None) -> Signal:
    """A combinational signal driven by ``value``.

    Amaranth does not share a sub-expression used twice: naming it keeps the generated
    Verilog linear in the design size instead of growing with every level of a tree.
    """
    value = Value.cast(value)
    sig = Signal(value.shape(), name=name)
    m.d.comb += sig.eq(value)
    return sig


def register(m: Module, value, *, name: str | None = None):
    """A reset-less register of ``value`` in the ``sync`` domain; returns its output."""
    value = Value.cast(value)
    reg = Signal(value.shape(), name=name, reset_less=True)
    m.d.sync += reg.eq(value)
    return reg


def delay(m: Module, value, cycles: int, *, name: str | None = None):
    """``value`` delayed by ``cycles`` reset-less registers (``cycles = 0`` returns it)."""
    for stage in range(cycles):
        value = register(m, value, name=None if name is None else f"{name}_d{stage + 1}")
    return value


#: Lanes one register copy of a value every lane reads (the maximum, ``t``) drives at most:
#: a register read by all of 197 lanes sets the ECP5 Fmax with its routing alone.
LANES_PER_COPY = 16


def copies_for(lanes: int) -> int:
    """Register copies of a value read by ``lanes`` lanes: one per :data:`LANES_PER_COPY`."""
    return -(-lanes // LANES_PER_COPY)


def copy_of(lane: int, lanes: int, copies: int) -> int:
    """The copy lane ``lane`` of ``lanes`` reads, the lanes shared out evenly in order."""
    return lane * copies // lanes


def copies_shape(shape, copies: int):
    """The shape of a member that takes ``copies`` copies of a ``shape`` value: the shape
    itself for one copy, else an array of them (:func:`lane_copy` reads it)."""
    return shape if copies == 1 else data.ArrayLayout(shape, copies)


def lane_copy(member, lane: int, lanes: int, copies: int):
    """The copy of a :func:`copies_shape` member that lane ``lane`` of ``lanes`` reads."""
    return member if copies == 1 else member[copy_of(lane, lanes, copies)]


def replicas(m: Module, value, copies: int, *, name: str, first: Value | None = None,
             reset_less: bool = True) -> list[Value]:
    """``copies`` registers of ``value``, each its own flip-flops: reset-less for data, or
    reset to 0 with the domain (``reset_less=False``) for a copy of a valid bit.

    Synthesis merges flip-flops with the same next value (yosys's ``opt_merge``, bit by bit),
    so every copy but the first takes the next value as a function of its own: per bit
    ``v & (q | v)``, which equals ``v`` but differs from copy to copy (a LUT that abc then
    maps away: the copies stay, at the cost of their flip-flops). Unlike a form such as
    ``v if q == v else q``, it is ``v`` in a Verilog simulator even while ``q`` is unknown
    (X: ``0 & X`` is 0, ``X | 1`` is 1), so a copy that once held X recovers.
    The first copy is a plain register (:func:`register`), or ``first``: a register the
    caller already has that holds ``value`` of the cycle before.
    """
    value = Value.cast(value)
    copies = check_int("copies", copies, 1)
    if first is None:
        first = Signal(value.shape(), name=name if copies == 1 else f"{name}_c0",
                       reset_less=reset_less)
        m.d.sync += first.eq(value)
    out = [first]
    for copy in range(1, copies):
        reg = Signal(value.shape(), name=f"{name}_c{copy}", reset_less=reset_less)
        bits = value.as_unsigned()
        m.d.sync += reg.eq(bits & (reg.as_unsigned() | bits))
        out.append(reg)
    return out


def reduce_tree(
    m: Module,
    leaves: Sequence[TreeItem],
    combine: Callable[[list[TreeItem], int], TreeItem],
    *,
    register_every: int,
    radix: int = 2,
    name: str = "tree",
) -> TreeItem:
    """Reduce ``leaves`` with a balanced tree of ``combine`` nodes, ``radix`` inputs each.

    ``combine(group, level)`` returns the item of a parent node at ``level`` (1 for the
    parents of the leaves) from a list of 1 to ``radix`` child items, left to right; a short
    last group (even a lone item) still goes through
    ``combine``, so that nodes which encode the position, like the argmax tree, can extend
    it. Registers follow the rule in the module docstring; the result arrives
    :func:`tree_latency` cycles after the leaves.
    """
    if not leaves:
        raise ValueError(f"{name} needs at least one leaf, not {len(leaves)}")
    items = [tuple(Value.cast(v) for v in leaf) for leaf in leaves]
    levels = tree_levels(len(items), radix)
    for level in range(1, levels + 1):
        groups = [items[j:j + radix] for j in range(0, len(items), radix)]
        items = [
            tuple(wire(m, v, name=f"{name}_n{level}_{j}_{k}")
                  for k, v in enumerate(combine(group, level)))
            for j, group in enumerate(groups)
        ]
        if register_every and level % register_every == 0 and level < levels:
            items = [
                tuple(register(m, v, name=f"{name}_l{level}_{j}_{k}") for k, v in enumerate(item))
                for j, item in enumerate(items)
            ]
    return items[0]


class UnitProperties:
    """The read-only properties every unit shares (mixed into its component).

    A unit sets ``_n``, ``_value_bits`` and ``_mask`` in its constructor.
    """

    @property
    def n(self) -> int:
        return self._n

    @property
    def value_bits(self) -> int:
        return self._value_bits

    @property
    def mask(self) -> bool:
        return self._mask


class PipelinedUnit:
    """The pipelining properties of a unit built of trees (:func:`check_pipeline_params`).

    A unit sets ``_register_every`` and ``_stage_registers`` in its constructor.
    """

    @property
    def register_every(self) -> int:
        return self._register_every

    @property
    def stage_registers(self) -> bool:
        return self._stage_registers


def check_pipeline_params(register_every, stage_registers) -> tuple[int, bool]:
    """Validate the two pipelining parameters shared by every unit and tree."""
    register_every = check_int("register_every", register_every, 0)
    if not isinstance(stage_registers, (bool, np.bool_)):
        raise TypeError(f"stage_registers must be True or False, not {stage_registers!r}")
    return register_every, bool(stage_registers)


def check_mask(mask) -> bool:
    """Validate the ``mask`` parameter (True or False)."""
    if not isinstance(mask, (bool, np.bool_)):
        raise TypeError(f"mask must be True or False, not {mask!r}")
    return bool(mask)


def check_lanes_per_beat(lanes_per_beat, n: int, streaming_class: str) -> None:
    """A one-beat unit accepts ``lanes_per_beat`` None or ``n`` only (else ValueError)."""
    if lanes_per_beat is None:
        return
    lanes_per_beat = check_int("lanes_per_beat", lanes_per_beat, 1, n)
    if lanes_per_beat != n:
        raise ValueError(f"lanes_per_beat = {lanes_per_beat} < n = {n} is the streaming form: "
                         f"build it with {streaming_class}, not the one-beat unit")


def check_one_beat_size(n: int, wires: dict[str, int], input_bits: int) -> None:
    """Refuse a one-beat unit too large to build, before anything is built.

    ``wires`` names the unit's widest wires with their widths; ``input_bits`` counts every
    input port bit of the emitted module (data, mask, clk, rst, s_axis_tvalid,
    m_axis_tready). Each wire must stay within :data:`MAX_WIRE_BITS`, the input bits within
    :data:`MAX_INPUT_BITS`, and ``n`` within :data:`MAX_ONE_BEAT_LANES`; otherwise one
    ValueError names ``n`` (and the wire) and points to ``lanes_per_beat``.
    """
    hint = ("; a row this long needs the streaming form: set lanes_per_beat to the lanes "
            "taken per clock (e.g. 16)")
    if n > MAX_ONE_BEAT_LANES:
        raise ValueError(f"n = {n} is more lanes than a one-beat unit is built with "
                         f"(at most {MAX_ONE_BEAT_LANES}){hint}")
    if input_bits > MAX_INPUT_BITS:
        raise ValueError(f"n = {n} gives the module {input_bits} input bits, more than the "
                         f"{MAX_INPUT_BITS} Amaranth converts{hint}")
    for what, width in wires.items():
        if width > MAX_WIRE_BITS:
            raise ValueError(f"n = {n} makes the {what} a {width}-bit wire, more than the "
                             f"{MAX_WIRE_BITS} bits Amaranth and Verilog tools accept{hint}")
