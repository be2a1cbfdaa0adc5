"""Verilog emitter: a unit becomes a Verilog-2001 module plus its sidecar JSON.

A unit (a component with stream members ``i`` and ``o``) is converted through the adapter
:class:`shiftmax.hw.axi.AxiStream`, whose ports are the contract's (``s_axis_*``,
``m_axis_*``, ``clk``, ``rst``). The sidecar (``OUT.json`` beside ``OUT.v``) records what a
test bench or a synthesis script needs without parsing Verilog (``input_cycles``: clock cycles
per input beat, 1 unless the unit is folded; ``beats_per_row``: input beats per row, 1 for a
one-beat unit; ``memory_bits``: bits of RAM the unit holds; ``flow_control``: its form, see
:mod:`shiftmax.hw.flow`; ``ports`` lists ``s_axis_tuser``/``tlast`` and ``m_axis_tlast``/
``tuser`` only when the unit has them)::

    {"module": "shiftmax", "unit": "shiftmax", "latency": 9, "input_cycles": 1,
     "beats_per_row": 1, "memory_bits": 1760, "flow_control": "fifo",
     "params": {"n": 10, "value_bits": 7, ...every parameter, pipelining included...},
     "ports": {"s_axis_tdata": 80, ..., "clk": 1, "rst": 1}}
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib import wiring

from .axi import PORT_NAMES, AxiStream

__all__ = ["emit_verilog", "write_verilog", "write_files", "sidecar", "sidecar_path"]

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")

#: Reserved words of Verilog-2005 (IEEE 1364) and SystemVerilog (IEEE 1800, which Verilator
#: and most tools apply to .v files too): a module named after one would have to be escaped.
VERILOG_KEYWORDS = frozenset("""
    always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config
    deassign default defparam design disable edge else end endcase endconfig endfunction
    endgenerate endmodule endprimitive endspecify endtable endtask event for force forever
    fork function generate genvar highz0 highz1 if ifnone incdir include initial inout input
    instance integer join large liblist library localparam macromodule medium module nand
    negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge
    primitive pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real
    realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled
    signed small specify specparam strong0 strong1 supply0 supply1 table task time tran
    tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand
    weak0 weak1 while wire wor xnor xor
    accept_on alias always_comb always_ff always_latch assert assume before bind bins binsof
    bit break byte chandle checker class clocking const constraint context continue cover
    covergroup coverpoint cross dist do endchecker endclass endclocking endgroup endinterface
    endpackage endprogram endproperty endsequence enum eventually expect export extends extern
    final first_match foreach forkjoin global iff ignore_bins illegal_bins implements implies
    import inside int interconnect interface intersect join_any join_none let local logic
    longint matches modport nettype new nexttime null package packed priority program property
    protected pure rand randc randcase randsequence ref reject_on restrict return s_always
    s_eventually s_nexttime s_until s_until_with sequence shortint shortreal soft solve static
    string strong struct super sync_accept_on sync_reject_on tagged this throughout
    timeprecision timeunit type typedef union unique unique0 until until_with untyped var
    virtual void wait_order weak wildcard with within
""".split())


def check_module_name(name) -> str:
    """A plain Verilog identifier that is not a reserved word (no escaping needed), or
    ValueError naming ``name``."""
    if not isinstance(name, str) or not _MODULE_NAME.match(name):
        raise ValueError(f"name must be a Verilog identifier (letters, digits, _ and $, not "
                         f"starting with a digit), not {name!r}")
    if name in VERILOG_KEYWORDS:
        raise ValueError(f"name must not be a Verilog or SystemVerilog keyword, not {name!r}")
    return name


def adapter(unit, *, formal: bool = False) -> AxiStream:
    """``unit`` under the contract's port names (an :class:`AxiStream` passes through, or
    with ``formal`` is rebuilt with the formal build's port)."""
    if isinstance(unit, AxiStream):
        if not formal:
            return unit
        unit = unit.unit
    if not isinstance(unit, wiring.Component):
        raise TypeError(f"unit must be a unit component (stream members i and o), not "
                        f"{type(unit).__name__}")
    return AxiStream(unit, formal=formal)


def sidecar(unit, name: str) -> dict[str, Any]:
    """The sidecar JSON content of ``unit`` (or its adapter) emitted as module ``name``."""
    axi = adapter(unit)
    members = axi.signature.members
    ports = {port: Shape.cast(members[port].shape).width
             for port in PORT_NAMES if port in members}
    ports.update(clk=1, rst=1)
    return {"module": name, "unit": axi.unit_name, "latency": axi.latency,
            "input_cycles": axi.input_cycles, "beats_per_row": axi.beats_per_row,
            "memory_bits": axi.memory_bits, "flow_control": axi.flow_control,
            "params": axi.params, "ports": ports}


def emit_verilog(unit, *, name: str | None = None,
                 formal: bool = False) -> tuple[str, dict[str, Any]]:
    """Convert ``unit`` to Verilog through :class:`AxiStream`; returns (Verilog, sidecar).

    ``name`` is the module name (default: the unit's name, ``shiftmax`` or ``argmax``).
    ``formal``: the formal build (:mod:`shiftmax.hw.formal`): the flow-control blocks'
    invariants and tracked-row checks as assertions, and the formal ports; the sidecar's
    ``formal_rows_held`` is its width, or 0 when no block drives it, and ``formal_partial``
    whether a streaming unit states what its stages hold of the tracked row (and
    ``formal_unstated`` the cycles a beat may spend in stages it states nothing of).
    """
    axi = adapter(unit, formal=formal)
    name = check_module_name(axi.unit_name if name is None else name)
    platform = axi.formal_build() if formal else None
    text = verilog.convert(axi, name=name, emit_src=formal, platform=platform)
    declared = set(re.findall(r"^\s*(?:input|output)\s+(?:wire\s+|reg\s+)?(?:\[[^\]]*\]\s*)?"
                              r"(\w+)\s*;", text, flags=re.MULTILINE))
    missing = {"clk", "rst", *axi.signature.members} - declared
    if missing:  # pragma: no cover - a broken emitter, not a user error
        raise RuntimeError(f"generated module {name} lacks the ports {sorted(missing)}")
    meta = sidecar(axi, name)
    if formal:
        meta["formal_rows_held"] = len(axi.formal_rows_held) if platform.reported else 0
        meta["formal_partial"] = platform.partials
        meta["formal_unstated"] = platform.unstated
    return text, meta


def sidecar_path(verilog_path: str | Path) -> Path:
    """``OUT.json`` for ``OUT.v`` (the same path with ``.json`` in place of the suffix)."""
    return Path(verilog_path).with_suffix(".json")


def write_verilog(unit, path: str | Path, *, name: str | None = None) -> Path:
    """Write ``unit`` as Verilog to ``path`` and its sidecar beside it; returns the sidecar path.

    Everything is converted first; the files are written only when conversion succeeded. The
    parent directory is created if needed.
    """
    text, meta = emit_verilog(unit, name=name)
    return write_files(path, text, meta)


def write_files(path: str | Path, text: str, meta: dict[str, Any]) -> Path:
    """Write converted Verilog ``text`` to ``path`` and ``meta`` to its sidecar path.

    Returns the sidecar path. The parent directory is created if needed.
    """
    path = Path(path)
    json_path = sidecar_path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    json_path.write_text(json.dumps(meta, indent=2) + "\n")
    return json_path
