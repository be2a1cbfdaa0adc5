"""A bench adapter: a unit's whole stream payloads as two flat words, for ``rtl_stream``.

``rtl_stream`` (tests/rtl_sim.py) drives ``s_axis_tdata`` and reads ``m_axis_tdata``. Around a
unit with a mask, :class:`PayloadPorts` puts the whole input payload (data, then mask above it)
on ``s_axis_tdata`` and the whole output payload (data, then user) on ``m_axis_tdata``, so the
same bench drives the mask and reads the flag.
"""

from __future__ import annotations

from amaranth.hdl import Module, Shape
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["PayloadPorts"]


class PayloadPorts(wiring.Component):
    """``unit``'s i/o streams with flat payload words under the AXI4-Stream port names."""

    def __init__(self, unit: wiring.Component) -> None:
        self.unit = unit
        members = unit.signature.members
        in_width = Shape.cast(members["i"].signature.members["payload"].shape).width
        out_width = Shape.cast(members["o"].signature.members["payload"].shape).width
        super().__init__({"s_axis_tdata": In(in_width), "s_axis_tvalid": In(1),
                          "s_axis_tready": Out(1), "m_axis_tdata": Out(out_width),
                          "m_axis_tvalid": Out(1), "m_axis_tready": In(1)})

    @property
    def latency(self) -> int:
        return self.unit.latency

    @property
    def input_cycles(self) -> int:
        return self.unit.input_cycles

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.unit = unit = self.unit
        m.d.comb += [
            unit.i.payload.eq(self.s_axis_tdata), unit.i.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(unit.i.ready),
            self.m_axis_tdata.eq(unit.o.payload), self.m_axis_tvalid.eq(unit.o.valid),
            unit.o.ready.eq(self.m_axis_tready),
        ]
        return m
