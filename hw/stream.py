"""AXI4-Stream wrapper shared by the two units (Shiftmax and Argmax).

The datapath of a unit is a plain synchronous pipeline of ``latency`` register stages with no
handshake. This base class wraps it the same way for both units:

- the whole datapath runs under ``EnableInserter(ce)`` with
  ``ce = m_axis_tready | ~m_axis_tvalid``: the pipeline advances whenever the output slot is
  free or being taken, and freezes (data held stable) while a result waits for its consumer;
- a valid bit per stage shifts alongside the data under the same enable; the last one is
  ``m_axis_tvalid``; only these valid bits have a reset, so a synchronous ``rst`` empties the
  pipeline (no stale beat comes out after it);
- ``s_axis_tready = ce``: a beat enters exactly when the pipeline moves, so nothing is lost,
  duplicated or reordered, and with ``m_axis_tready`` held high one beat enters per cycle.

A *folded* unit (``input_cycles > 1``) reads each beat in ``input_cycles`` parts, one per
cycle, while it holds ``s_axis_tready`` low: AXI4-Stream obliges the source to hold
``s_axis_tdata`` until the beat is taken, so no input register is needed. A step counter
(reset, advanced when the pipeline moves and ``s_axis_tvalid`` is high) tells the datapath
which part to read; the beat is taken, and its valid bit enters the pipeline, on the last
part. The latency still counts from that handshake; a new beat is taken every
``input_cycles`` cycles.

``s_axis_tready`` depends combinationally on ``m_axis_tready`` (as in a plain pipeline
register chain); a skid buffer is not needed for correctness.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from dataclasses import dataclass
from typing import Any

from amaranth.hdl import Cat, Const, EnableInserter, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["AxiStreamUnit", "InputStep", "PORT_NAMES"]

#: The Verilog ports of every unit, in the order of the contract (clk and rst come from the
#: ``sync`` clock domain).
PORT_NAMES = ("clk", "rst", "s_axis_tdata", "s_axis_tvalid", "s_axis_tready",
              "m_axis_tdata", "m_axis_tvalid", "m_axis_tready")


@dataclass(frozen=True)
class InputStep:
    """Which part of the input beat the datapath reads this cycle (see the module docstring).

    ``index`` counts ``0 .. input_cycles - 1`` (a constant 0 for a unit that is not folded);
    ``valid`` is ``s_axis_tvalid``: the part holds real data.
    """

    index: Value
    valid: Value


class AxiStreamUnit(wiring.Component, metaclass=ABCMeta):
    """Base class of a unit: AXI4-Stream ports around a fixed-latency datapath.

    Subclasses call ``super().__init__(in_width=..., out_width=...)`` and implement
    :meth:`elaborate_datapath` (the datapath, whose result is registered
    ``self.latency`` cycles after its input), the ``latency`` property and ``params``; a
    folded unit also overrides ``input_cycles``.

    Members
    -------
    s_axis_tdata : In(in_width)
    s_axis_tvalid : In(1)
    s_axis_tready : Out(1)
    m_axis_tdata : Out(out_width)
    m_axis_tvalid : Out(1)
    m_axis_tready : In(1)
    """

    #: The unit's name in the sidecar JSON (``"shiftmax"`` or ``"argmax"``).
    unit_name = "unit"

    def __init__(self, *, in_width: int, out_width: int) -> None:
        super().__init__({
            "s_axis_tdata": In(in_width),
            "s_axis_tvalid": In(1),
            "s_axis_tready": Out(1),
            "m_axis_tdata": Out(out_width),
            "m_axis_tvalid": Out(1),
            "m_axis_tready": In(1),
        })

    @property
    @abstractmethod
    def latency(self) -> int:
        """Cycles from a beat taken at ``s_axis`` to its result taken at ``m_axis`` (>= 1)."""

    @property
    def input_cycles(self) -> int:
        """Clock cycles each input beat occupies: a new beat every ``input_cycles`` cycles."""
        return 1

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Every parameter that shaped the design (for the sidecar JSON)."""

    @abstractmethod
    def elaborate_datapath(self, m: Module, data: Value, step: InputStep) -> Value:
        """Build the datapath in ``m`` from ``data``; return the registered result.

        ``step`` matters to a folded unit only (see :class:`InputStep`).
        """

    def elaborate(self, platform) -> Module:
        m = Module()
        ce = Signal()
        m.d.comb += ce.eq(self.m_axis_tready | ~self.m_axis_tvalid)

        taken, beat_valid = ce, self.s_axis_tvalid
        if self.input_cycles > 1:
            step = InputStep(Signal(range(self.input_cycles), name="step"), self.s_axis_tvalid)
            last = step.index == self.input_cycles - 1
            with m.If(ce & self.s_axis_tvalid):
                m.d.sync += step.index.eq(Mux(last, 0, step.index + 1))
            taken, beat_valid = ce & last, self.s_axis_tvalid & last
        else:
            step = InputStep(Const(0, 1), self.s_axis_tvalid)

        datapath = Module()
        result = self.elaborate_datapath(datapath, self.s_axis_tdata, step)
        m.submodules.datapath = EnableInserter(ce)(datapath)

        # The valid bits travel beside the data; they alone are reset.
        valid = Signal(self.latency)
        with m.If(ce):
            m.d.sync += valid.eq(Cat(beat_valid, valid[:-1]))
        m.d.comb += [
            self.s_axis_tready.eq(taken),
            self.m_axis_tdata.eq(result),
            self.m_axis_tvalid.eq(valid[-1]),
        ]
        return m

