"""The AXI4-Stream adapter: a unit's stream members as the contract's Verilog ports.

Inside, every unit is an Amaranth ``wiring.Component`` with two ``amaranth.lib.stream``
members, ``i`` and ``o``, whose payloads are ``data.StructLayout`` s with the fields
``data`` (lanes as a ``data.ArrayLayout``), ``mask``, ``last`` and ``user`` where the unit
has them. An Amaranth design connects those directly (``wiring.connect``, a FIFO's
``w_stream``/``r_stream``). :class:`AxiStream` flattens them, once, at the top, to the names
and bit layout of the interface contract, which the Verilog emitter converts::

    s_axis_tdata  <- i.payload.data     m_axis_tdata  <- o.payload.data
    s_axis_tuser  <- i.payload.mask     m_axis_tlast  <- o.payload.last
    s_axis_tlast  <- i.payload.last     m_axis_tuser  <- o.payload.user
    s_axis_tvalid/tready <- i.valid/i.ready, m_axis_tvalid/tready <- o.valid/o.ready

(``clk`` and ``rst`` come from the ``sync`` domain). An array of lanes flattens lane 0 lowest,
so lane k of ``s_axis_tdata`` is at bits ``[k*(VB+1) +: VB+1]``, as the contract says.

:func:`pack_lanes` and :func:`unpack_lanes` convert between per-lane values and such words,
for test benches (Python ints) and for designs (Amaranth values).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from amaranth.hdl import Cat, Shape, ShapeCastable, Value, ValueCastable, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .formal import ROWS_HELD_BITS, FormalBuild

__all__ = ["AxiStream", "PORT_NAMES", "pack_lanes", "unpack_lanes"]

#: The Verilog ports a unit can have, in the order of the contract (clk and rst come from the
#: ``sync`` domain; tuser and tlast only where the unit has them).
PORT_NAMES = ("clk", "rst", "s_axis_tdata", "s_axis_tuser", "s_axis_tlast", "s_axis_tvalid",
              "s_axis_tready", "m_axis_tdata", "m_axis_tlast", "m_axis_tuser",
              "m_axis_tvalid", "m_axis_tready")

#: Payload field -> port, per side.
_INPUT_FIELDS = {"data": "s_axis_tdata", "mask": "s_axis_tuser", "last": "s_axis_tlast"}
_OUTPUT_FIELDS = {"data": "m_axis_tdata", "last": "m_axis_tlast", "user": "m_axis_tuser"}


def _fields(stream_member, side: str, known: dict[str, str]) -> dict[str, int]:
    """Field name -> width of a stream member's payload (a StructLayout with known fields)."""
    layout = stream_member.signature.members["payload"].shape
    if not isinstance(layout, data.StructLayout):
        raise TypeError(f"unit.{side}.payload must be a data.StructLayout, not {layout!r}")
    fields = {name: Shape.cast(field.shape).width for name, field in layout}
    unknown = set(fields) - set(known)
    if "data" not in fields or unknown:
        raise TypeError(f"unit.{side}.payload must have a 'data' field and only "
                        f"{sorted(known)}, not {sorted(fields)}")
    return fields


def _expect_port(field: str) -> str:
    """The formal build's input with the expected value of an output field."""
    return "formal_expect_" + _OUTPUT_FIELDS[field].removeprefix("m_axis_")


class AxiStream(wiring.Component):
    """A unit with stream members ``i`` and ``o`` under the contract's AXI4-Stream port names.

    Everything else about the unit (``latency``, ``input_cycles``, ``beats_per_row``,
    ``params``, ``memory_bits``, ``flow_control``, ``unit_name``) reads through unchanged.

    Parameters
    ----------
    unit : wiring.Component
        With members ``i: In(stream.Signature(...))`` and ``o: Out(stream.Signature(...))``.

    Members
    -------
    s_axis_tdata : In(width of i.payload.data); s_axis_tuser : In(lanes), with a mask;
    s_axis_tlast : In(1), streaming units; s_axis_tvalid : In(1); s_axis_tready : Out(1);
    m_axis_tdata : Out(width of o.payload.data); m_axis_tlast : Out(1), m_axis_tuser : Out(1)
    where the unit has them; m_axis_tvalid : Out(1); m_axis_tready : In(1).
    formal_rows_held : Out(ROWS_HELD_BITS); formal_tracking : In(1);
    formal_position : In(ROWS_HELD_BITS); formal_expect_tdata, ... : In, one per output field;
    formal_in_beat : Out(ROWS_HELD_BITS), formal_in_dropping : Out(1),
    formal_row_tracking : In(1), formal_row_tdata : In(n * (value_bits + 1)),
    formal_row_tuser : In(n) (with a mask), units with s_axis_tlast
        With ``formal`` only: the formal build's ports (:mod:`shiftmax.hw.formal`).

    Raises
    ------
    TypeError
        If ``unit`` lacks stream members ``i`` and ``o`` with StructLayout payloads.
    """

    def __init__(self, unit: wiring.Component, *, formal: bool = False) -> None:
        members = getattr(getattr(unit, "signature", None), "members", {})
        for name, flow in (("i", In), ("o", Out)):
            if name not in members or members[name].is_port or members[name].flow != flow:
                raise TypeError(f"unit must have stream members i (In) and o (Out), "
                                f"not {type(unit).__name__}")
        self._unit = unit
        self._in_fields = _fields(members["i"], "i", _INPUT_FIELDS)
        self._out_fields = _fields(members["o"], "o", _OUTPUT_FIELDS)
        ports = {}
        for port in PORT_NAMES[2:]:
            for fields, known, flow in ((self._in_fields, _INPUT_FIELDS, In),
                                        (self._out_fields, _OUTPUT_FIELDS, Out)):
                for name, width in fields.items():
                    if known[name] == port:
                        ports[port] = flow(width)
            if port == "s_axis_tvalid" or port == "m_axis_tready":
                ports[port] = In(1)
            elif port == "s_axis_tready" or port == "m_axis_tvalid":
                ports[port] = Out(1)
        if formal:
            ports.update(formal_rows_held=Out(ROWS_HELD_BITS), formal_tracking=In(1),
                         formal_position=In(ROWS_HELD_BITS))
            for name, width in self._out_fields.items():
                ports[_expect_port(name)] = In(width)
            if "last" in self._in_fields:
                ports.update(formal_in_beat=Out(ROWS_HELD_BITS), formal_in_dropping=Out(1),
                             formal_row_tracking=In(1),
                             formal_row_tdata=In(unit.n * (unit.value_bits + 1)))
                if "mask" in self._in_fields:
                    ports.update(formal_row_tuser=In(unit.n))
        super().__init__(ports)

    def formal_build(self) -> FormalBuild:
        """The platform of the formal build, on this adapter's formal ports."""
        return FormalBuild(rows_held=self.formal_rows_held, tracking=self.formal_tracking,
                           position=self.formal_position,
                           expect={name: getattr(self, _expect_port(name))
                                   for name in self._out_fields},
                           layout=self._unit.signature.members["o"].signature
                           .members["payload"].shape,
                           in_beat=getattr(self, "formal_in_beat", None),
                           in_dropping=getattr(self, "formal_in_dropping", None),
                           row=self._recorded_row(),
                           row_mask=getattr(self, "formal_row_tuser", None),
                           row_tracking=getattr(self, "formal_row_tracking", None))

    def _recorded_row(self) -> data.View | None:
        """The formal build's record of a streaming unit's tracked row, one lane per element."""
        if not hasattr(self, "formal_row_tdata"):
            return None
        unit = self._unit
        return data.View(data.ArrayLayout(signed(unit.value_bits + 1), unit.n),
                         self.formal_row_tdata)

    @property
    def unit(self) -> wiring.Component:
        """The wrapped unit."""
        return self._unit

    def __getattr__(self, name: str) -> Any:
        # The unit's read-only description (latency, params, ...), not its members.
        if name.startswith("_") or name in ("i", "o"):
            raise AttributeError(name)
        return getattr(self._unit, name)

    def elaborate(self, platform):
        from amaranth.hdl import Module

        m = Module()
        m.submodules.unit = unit = self._unit
        for name in self._in_fields:
            m.d.comb += Value.cast(getattr(unit.i.payload, name)).eq(
                getattr(self, _INPUT_FIELDS[name]))
        for name in self._out_fields:
            m.d.comb += getattr(self, _OUTPUT_FIELDS[name]).eq(
                Value.cast(getattr(unit.o.payload, name)))
        m.d.comb += [
            unit.i.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(unit.i.ready),
            self.m_axis_tvalid.eq(unit.o.valid),
            unit.o.ready.eq(self.m_axis_tready),
        ]
        return m


def pack_lanes(values: Sequence, width: int):
    """Lanes into one word, lane 0 lowest, each ``width`` bits (two's complement).

    Python ints give a Python int (for a test bench: ``ctx.set(axi.s_axis_tdata, word)``);
    anything else gives an Amaranth value, each lane truncated or extended (by its own
    signedness) to ``width`` bits, for a design that has lanes on a flat bus.
    """
    if width < 1:
        raise ValueError(f"width must be a positive integer, not {width!r}")
    if all(isinstance(v, int) for v in values):
        mask = (1 << width) - 1
        word = 0
        for k, value in enumerate(values):
            word |= (value & mask) << (k * width)
        return word
    from .pipeline import fit

    return Cat(*(fit(v, width) for v in values))


def unpack_lanes(word, lanes: int, width: int | ShapeCastable, *, signed: bool = False):
    """The inverse of :func:`pack_lanes`: a word's ``lanes`` lanes of ``width`` bits.

    A Python int gives a list of ints (``signed``: two's complement). An Amaranth value gives a
    ``data.View`` of ``data.ArrayLayout(shape, lanes)`` (``shape``: ``width`` itself when it
    is a shape, else ``signed(width)`` or ``unsigned(width)``), indexable by lane.
    """
    if isinstance(word, int):
        if not isinstance(width, int) or width < 1:
            raise ValueError(f"width must be a positive integer, not {width!r}")
        ones = (1 << width) - 1
        values = [(word >> (k * width)) & ones for k in range(lanes)]
        if signed:
            values = [v - (1 << width) if v >> (width - 1) else v for v in values]
        return values
    if isinstance(width, int):
        shape = Shape(width, signed)
    else:
        shape = width
    value = Value.cast(word) if not isinstance(word, ValueCastable) else word.as_value()
    layout = data.ArrayLayout(shape, lanes)
    return data.View(layout, value[:layout.size])
