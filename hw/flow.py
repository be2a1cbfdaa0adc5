"""Flow control around a fixed-latency datapath: the three forms a one-beat unit is built in.

A unit's datapath is a plain synchronous pipeline with no handshake inside: its result is
registered ``L`` cycles after its input (``L`` = the datapath latency). This module puts the
stream handshake around it, in one of three forms (``flow_control``; docs/flow-control.md
has the diagrams and the measured cost of each):

``"enable"``
    One global clock enable ``ce = o.ready | ~o.valid`` on every flip-flop of the datapath
    (Amaranth's ``EnableInserter``): the pipeline advances when its output slot is free or
    being taken and freezes otherwise; ``i.ready = ce``. The smallest form, but ``ce`` is a
    LUT output fed by ``o.ready`` that reaches every pipeline flip-flop, and at large N that
    one net sets Fmax. Latency ``L``.
``"skid"``
    The same frozen pipeline, but its enable comes from a register: an output register slice
    with a skid register (as verilog-axis's ``axis_register`` with ``REG_TYPE = 2``) registers
    its ``s_tready``, and that register both enables the pipeline and is ``i.ready``. The
    slice holds the result the pipeline delivers in the cycle the enable takes to fall.
    Latency ``L + 1``; two output-wide registers and a 2-to-1 multiplexer per output bit.
``"fifo"``
    No enable on the datapath at all: it runs freely, and a credit counter admits a beat only
    when the output FIFO is certain to have room for its result by the time it arrives. The
    FIFO (LUT RAM and an output register, ``L + 3`` credits) absorbs every result in flight
    while the consumer stalls, so the unit still takes one beat per clock while ``o.ready``
    is high. ``i.ready`` is a register (there is credit left). Latency ``L + 2``.

In every form the valid bits travel beside the data and alone are reset, so a synchronous
reset empties the pipeline; nothing is lost, duplicated or reordered.

A *folded* datapath (``input_cycles > 1``) reads each beat in ``input_cycles`` parts, one per
cycle, while ``i.ready`` stays low: the stream holds ``i.payload`` until the beat is taken.
A step counter (reset; advanced when the pipeline may take a part and ``i.valid`` is high)
tells the datapath which part to read; the beat is taken, and its valid bit enters the
pipeline, on the last part.

Use it through :class:`FixedLatencyUnit` (a unit subclasses it and builds its datapath in
:meth:`~FixedLatencyUnit.elaborate_datapath`) or :class:`FixedLatencyStream` (any callback or
component with a fixed latency, wrapped as a stream component).
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amaranth.hdl import Cat, Const, EnableInserter, Module, Mux, Shape, Signal, Value
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_choice, check_int
from shiftmax.units import DEFAULT_FLOW_CONTROL, FLOW_CONTROLS

from .formal import Slot, formal_build
from .pipeline import ceil_log2, replicas

__all__ = [
    "FLOW_CONTROLS",
    "DEFAULT_FLOW_CONTROL",
    "InputStep",
    "check_flow_control",
    "flow_latency",
    "fifo_depth",
    "flow_memory_bits",
    "connect_flow",
    "FixedLatencyUnit",
    "FixedLatencyStream",
]


#: Cycles each form adds to the datapath latency.
_EXTRA_LATENCY = {"enable": 0, "skid": 1, "fifo": 2}

#: Payload of a datapath: what it reads (a ``data.View`` of the input layout) and returns.
Datapath = Callable[[Module, Any, "InputStep"], Value]


@dataclass(frozen=True)
class InputStep:
    """Which part of the input beat the datapath reads this cycle (see the module docstring).

    ``index`` counts ``0 .. input_cycles - 1`` (a constant 0 for a datapath that is not
    folded); ``valid``: the part holds real data and the pipeline takes it this cycle.
    """

    index: Value
    valid: Value


def check_flow_control(flow_control, forms: tuple[str, ...] = FLOW_CONTROLS) -> str:
    """``flow_control`` if it names one of a unit's ``forms``, else ValueError naming it and
    the value. ``None`` is the registry's default (:data:`DEFAULT_FLOW_CONTROL`), or the first
    of ``forms`` for a unit without it."""
    if flow_control is None:
        return DEFAULT_FLOW_CONTROL if DEFAULT_FLOW_CONTROL in forms else forms[0]
    if flow_control not in forms and flow_control in FLOW_CONTROLS:
        names = " or ".join(repr(form) for form in forms)
        raise ValueError(f"flow_control must be {names} for this unit (see "
                         f"docs/flow-control.md), not {flow_control!r}")
    return check_choice("flow_control", flow_control, FLOW_CONTROLS)


def flow_latency(datapath_latency: int, flow_control: str) -> int:
    """Edges from a beat taken at ``i`` to its result taken at ``o`` (``o.ready`` high)."""
    return datapath_latency + _EXTRA_LATENCY[check_flow_control(flow_control)]


def fifo_depth(datapath_latency: int) -> int:
    """Credits of the ``"fifo"`` form, the most results it holds: ``L + 3``.

    A credit leaves when a beat is taken at edge t and comes back when its result is taken,
    at edge ``t + L + 2`` at the earliest; the credit flag is a register, so a credit returned
    at an edge admits a beat one edge later: ``L + 3`` credits keep one beat per clock.
    """
    return datapath_latency + 3


def _fifo_memory_depth(datapath_latency: int) -> int:
    """Words of the FIFO memory: a power of two, at least the credits less one.

    A result waits in the memory only behind a full output register (or alone, for the one
    cycle before it moves there), so the memory holds at most ``credits - 1``.
    """
    return 1 << ceil_log2(fifo_depth(datapath_latency) - 1)


#: Output bits per bank of the ``"fifo"`` form's FIFO: each bank has its own read pointer and
#: output-valid flag, so that no address or clock enable fans out to the whole output.
FIFO_BANK_BITS = 32
#: Banks per write group of that FIFO: each group has its own copy of the write enable, the
#: write pointer and the "a result waiting" flag (a single write enable reaching all 1,084
#: LUT-RAM cells of a 2,167-bit output set the ECP5 Fmax at N = 197).
FIFO_GROUP_BANKS = 4


def flow_memory_bits(datapath_latency: int, flow_control: str, out_width: int) -> int:
    """Bits of memory (LUT RAM) the form needs: the ``"fifo"`` form's FIFO, else 0."""
    if check_flow_control(flow_control) != "fifo":
        return 0
    return _fifo_memory_depth(datapath_latency) * out_width


def connect_flow(m: Module, *, i, o, datapath: Datapath, datapath_latency: int,
                 flow_control: str, input_cycles: int = 1, platform=None) -> None:
    """Build ``datapath`` in a submodule of ``m`` and put the handshake of a form around it.

    ``i`` and ``o`` are the unit's ``stream.Signature`` interfaces (``In`` and ``Out``);
    ``datapath(module, payload, step)`` builds the pipeline in ``module`` from ``payload``
    (a view of ``i.payload``) and returns its result, registered ``datapath_latency`` cycles
    after its input (at least 1), which becomes ``o.payload``. In a formal build
    (``platform``, :mod:`shiftmax.hw.formal`) the form reports the rows it holds and its
    invariants.
    """
    flow_control = check_flow_control(flow_control)
    latency = check_int("datapath_latency", datapath_latency, 1)
    input_cycles = check_int("input_cycles", input_cycles, 1)

    # ``advance``: the pipeline moves this cycle; ``admit``: a part may be taken. In the two
    # frozen forms they are the enable; in the fifo form the pipeline always moves.
    if flow_control == "enable":
        advance = Signal(name="ce")
        m.d.comb += advance.eq(o.ready | ~o.valid)
        admit = advance
    elif flow_control == "skid":
        # Registered: the slice's s_tready (high out of reset: the slice is empty).
        advance = Signal(name="ce", init=1)
        admit = advance
    else:
        advance = Const(1)
        admit = Signal(name="credit", init=1)

    if input_cycles > 1:
        index = Signal(range(input_cycles), name="step")
        last = index == input_cycles - 1
        with m.If(admit & i.valid):
            m.d.sync += index.eq(Mux(last, 0, index + 1))
        invariants = [index < input_cycles]
    else:
        index, last = Const(0, 1), Const(1)
        invariants = []
    take = Signal(name="take")
    m.d.comb += [take.eq(admit & i.valid), i.ready.eq(admit & last)]

    body = Module()
    result = Value.cast(datapath(body, i.payload, InputStep(index, take)))
    out_width = Shape.cast(o.payload.shape()).width
    if len(result) != out_width:
        raise ValueError(f"the datapath returned {len(result)} bits, the output payload has "
                         f"{out_width}")

    # The valid bits travel beside the data; they alone are reset.
    valid = Signal(latency, name="valid")
    beat = take & last
    # Rows in the pipeline: its valid bits set.
    in_flight = sum(valid[stage] for stage in range(latency))
    if flow_control == "fifo":
        m.submodules.datapath = body
        m.d.sync += valid.eq(Cat(beat, valid[:-1]))
        held, block_invariants, slots = _fifo(m, i=i, o=o, result=result, valid=valid[-1],
                                              arriving=valid[-2] if latency > 1 else beat,
                                              credit=admit, taken=beat, latency=latency,
                                              in_flight=in_flight)
    else:
        m.submodules.datapath = EnableInserter(advance)(body)
        with m.If(advance):
            m.d.sync += valid.eq(Cat(beat, valid[:-1]))
        if flow_control == "enable":
            m.d.comb += [o.payload.eq(result), o.valid.eq(valid[-1])]
            held, block_invariants, slots = in_flight, [], [(0, valid[-1], result)]
        else:
            held, block_invariants, slots = _skid(m, o=o, result=result, valid=valid[-1],
                                                  ready_reg=advance, in_flight=in_flight)
    # A frozen datapath with inner stages: a row can wait in one for ever, so its result (the
    # last slot, the pipeline's last stage) is tied to its input by a separate argument: the
    # datapath, enabled, steps as the fifo form's free-running one, whose miter is proven.
    given = slots.pop() if flow_control != "fifo" and latency * input_cycles > 1 else None
    formal = formal_build(platform)
    if formal is not None:
        formal.hold(m, held, invariants + block_invariants, slots, given)


def _skid(m: Module, *, o, result: Value, valid: Value, ready_reg: Signal,
          in_flight: Value) -> tuple[Value, list[Value], list[Slot]]:
    """Output register slice with a skid register; its registered s_tready is ``ready_reg``.

    The pipeline's last stage (``result``, ``valid``) moves into the slice whenever
    ``ready_reg`` is high; the slice lowers ``ready_reg`` one cycle ahead of running out of
    room, and the skid register keeps the result that arrives in that cycle. Returns the
    rows held (``in_flight`` in the pipeline, the slice and the skid register), the
    invariants and where the results wait (for :mod:`shiftmax.hw.formal`).
    """
    out = Signal(len(result), name="slice_data", reset_less=True)
    skid = Signal(len(result), name="skid_data", reset_less=True)
    out_valid = Signal(name="slice_valid")
    skid_valid = Signal(name="skid_valid")
    # s_tready of the next cycle: room for a result after this edge (axis_register's
    # m_axis_tready_int_early).
    m.d.sync += ready_reg.eq(o.ready | (~skid_valid & (~out_valid | ~valid)))
    with m.If(ready_reg):
        with m.If(o.ready | ~out_valid):
            m.d.sync += [out_valid.eq(valid), out.eq(result)]
        with m.Else():
            m.d.sync += [skid_valid.eq(valid), skid.eq(result)]
    with m.Elif(o.ready):
        m.d.sync += [out_valid.eq(skid_valid), skid_valid.eq(0), out.eq(skid)]
    m.d.comb += [o.payload.eq(out), o.valid.eq(out_valid)]
    # The skid register is full exactly while the pipeline is frozen, and only behind a full
    # slice; the slice holds the oldest result, the skid register the next, then the pipeline.
    return (in_flight + out_valid + skid_valid,
            [ready_reg == ~skid_valid, ~skid_valid | out_valid],
            [(0, out_valid, out), (out_valid, skid_valid, skid),
             (out_valid + skid_valid, valid, result)])


def _thermometer(m: Module, name: str, length: int, *, up: Value, down: Value,
                 full: bool) -> Signal:
    """A count from 0 to ``length`` as a thermometer code (bit k: the count is above k).

    It goes up by one with ``up`` and down by one with ``down`` (both: unchanged); every bit
    is then one LUT of the two handshakes and its neighbours, with no carry chain, and
    "above k" is a register for every k.
    """
    code = Signal(length, name=name, init=(1 << length) - 1 if full else 0)
    with m.If(up ^ down):
        m.d.sync += code.eq(Mux(up, Cat(Const(1, 1), code[:-1]), code[1:]))
    return code


def _fifo(m: Module, *, i, o, result: Value, valid: Value, arriving: Value, credit: Signal,
          taken: Value, latency: int, in_flight: Value) -> tuple[Value, list[Value], list[Slot]]:
    """Credit counter and output FIFO of the free-running form (see :func:`fifo_depth`).

    ``credit`` (driven here from a register) is high while at least one credit is left; a beat
    ``taken`` uses one, a result taken at ``o`` returns it. The FIFO is a LUT RAM with
    asynchronous read (written when ``valid``, the valid bit that ``arriving`` becomes, always
    room by the credits) followed by the output register, both split in banks of
    :data:`FIFO_BANK_BITS` bits, each with its own read pointer and valid flag, and the banks
    in groups of :data:`FIFO_GROUP_BANKS`, each with its own write enable, write pointer and
    "a result waiting" flag. Returns the rows held (``in_flight`` in the pipeline, the memory
    and the output register), the invariants and where the results wait (for
    :mod:`shiftmax.hw.formal`).
    """
    # Credits and the results in the memory are thermometer codes: every flag the
    # handshakes need ("a credit left", "a result waiting") is a register, and every step
    # between registers is one LUT level.
    credits = fifo_depth(latency)
    released = Signal(name="released")
    m.d.comb += released.eq(o.valid & o.ready)
    left = _thermometer(m, "credits", credits, up=released, down=taken, full=True)
    m.d.comb += credit.eq(left[0])

    words = _fifo_memory_depth(latency)
    banks = [(low, min(low + FIFO_BANK_BITS, len(result)))
             for low in range(0, len(result), FIFO_BANK_BITS)]
    groups = -(-len(banks) // FIFO_GROUP_BANKS)
    # Per write group: a copy of the valid bit (the write enable), of the write pointer and of
    # "a result waiting". Group 0 has the originals; every other copy's next value is a
    # function of its own, so that synthesis cannot merge the copies.
    writes = replicas(m, arriving, groups, name="fifo_write", first=valid, reset_less=False)
    produces = []
    for group, write in enumerate(writes):
        produce = Signal(range(words), name=f"fifo_produce{group or ''}")
        with m.If(write):
            m.d.sync += produce.eq(produce + 1)
        produces.append(produce)
    # The memory's words, like the credits; "a result waiting" is its bit 0. Each group
    # decides its own pop (its first bank's), so that o.ready reaches it in one hop.
    pops = [Signal(name=f"fifo_pop{group or ''}") for group in range(groups)]
    stored = _thermometer(m, "fifo_stored", credits - 1, up=valid, down=pops[0], full=False)
    waitings = [stored[0]]
    for group, (write, pop) in enumerate(zip(writes[1:], pops[1:], strict=True), start=1):
        waiting = Signal(name=f"fifo_waiting{group}")
        with m.If(write ^ pop):
            m.d.sync += waiting.eq(write | stored[1])
        waitings.append(waiting)

    # Per bank: the output register loads whenever it is free (empty or being taken), whether
    # or not the memory holds a result, and its valid flag alone says whether what it loaded
    # is real. Each bank's flag and read pointer are copies of one value; each flag's update
    # is written as a function of its own value, so that synthesis cannot merge the copies
    # (and the fan-out of o.ready is one LUT per bank).
    out_valids, consumes, outputs, memories = [], [], [], []
    for bank, (low, high) in enumerate(banks):
        group = bank // FIFO_GROUP_BANKS
        waiting = waitings[group]
        memory = Memory(shape=high - low, depth=words, init=[])
        m.submodules[f"fifo_memory{bank}"] = memory
        write = memory.write_port()
        read = memory.read_port(domain="comb")
        consume = Signal(range(words), name=f"fifo_consume{bank}")
        out = Signal(high - low, name=f"fifo_data{bank}", reset_less=True)
        out_valid = Signal(name=f"fifo_valid{bank}")
        free = Signal(name=f"fifo_free{bank}")
        m.d.comb += [write.addr.eq(produces[group]), write.data.eq(result[low:high]),
                     write.en.eq(writes[group]), read.addr.eq(consume),
                     free.eq(~out_valid | o.ready)]
        m.d.sync += out_valid.eq(Mux(out_valid, ~o.ready | waiting, waiting))
        with m.If(free):
            m.d.sync += out.eq(read.data)
            with m.If(waiting):
                m.d.sync += consume.eq(consume + 1)
        if bank % FIFO_GROUP_BANKS == 0:
            m.d.comb += pops[group].eq(free & waiting)
        out_valids.append(out_valid)
        consumes.append(consume)
        outputs.append(out)
        memories.append(memory)
    m.d.comb += [o.payload.eq(Cat(*outputs)), o.valid.eq(out_valids[0])]

    # Every credit is either left or held by a row (in the pipeline, the memory or the output
    # register); the codes are thermometers; the banks and groups agree; the memory holds at
    # most one result while the output register is empty.
    def count(code: Value) -> Value:
        return sum(code[k] for k in range(len(code)))

    def is_thermometer(code: Value) -> Value:
        return (code & (code + 1)) == 0

    def stored_result(offset: Value) -> Value:
        # The result ``offset`` places behind the oldest in the memory (a read port per bank).
        words = []
        for memory, consume in zip(memories, consumes, strict=True):
            port = memory.read_port(domain="comb")
            m.d.comb += port.addr.eq(consume + offset)
            words.append(port.data)
        return Cat(*words)

    level = count(stored)
    held = in_flight + level + out_valids[0]
    # The output register holds the oldest result, the memory the next, then the pipeline.
    slots = [(0, out_valids[0], Cat(*outputs)), (out_valids[0], level, stored_result),
             (out_valids[0] + level, valid, result)]
    return held, [count(left) + held == credits, is_thermometer(left), is_thermometer(stored),
                  *((produces[0] - consume)[:len(produces[0])] == level[:len(produces[0])]
                    for consume in consumes),
                  *(flag == out_valids[0] for flag in out_valids),
                  *(copy == writes[0] for copy in writes),
                  *(copy == produces[0] for copy in produces),
                  *(copy == stored[0] for copy in waitings),
                  *(copy == pops[0] for copy in pops),
                  out_valids[0] | (level <= 1)], slots


class FixedLatencyUnit(wiring.Component, metaclass=ABCMeta):
    """Base class of a one-beat unit: stream members around a fixed-latency datapath.

    Subclasses call ``super().__init__(in_layout=..., out_layout=..., flow_control=...)`` and
    implement :meth:`elaborate_datapath`, the ``datapath_latency`` property and ``params``; a
    folded unit also overrides ``input_cycles``. The Verilog emitter converts the unit through
    :class:`shiftmax.hw.axi.AxiStream`, which flattens the members to the contract's ports.

    Members
    -------
    i : In(stream.Signature(in_layout))
        Input beats; ``i.payload`` is a view of ``in_layout``.
    o : Out(stream.Signature(out_layout))
        Results, in the order the beats came.
    """

    #: The unit's name in the sidecar JSON.
    unit_name = "unit"

    def __init__(self, *, in_layout: data.Layout, out_layout: data.Layout,
                 flow_control: str) -> None:
        self._flow_control = check_flow_control(flow_control)
        super().__init__({"i": In(stream.Signature(in_layout)),
                          "o": Out(stream.Signature(out_layout))})

    @property
    @abstractmethod
    def datapath_latency(self) -> int:
        """Cycles from the datapath's input to its registered result (>= 1)."""

    @property
    def latency(self) -> int:
        """Edges from a beat taken at ``i`` to its result taken at ``o`` with ``o.ready``
        high: the datapath latency plus what the flow-control form adds."""
        return flow_latency(self.datapath_latency, self._flow_control)

    @property
    def flow_control(self) -> str:
        return self._flow_control

    @property
    def in_layout(self) -> data.Layout:
        """Payload layout of ``i`` (to declare a matching ``stream.Signature`` elsewhere)."""
        return self.signature.members["i"].signature.members["payload"].shape

    @property
    def out_layout(self) -> data.Layout:
        """Payload layout of ``o``."""
        return self.signature.members["o"].signature.members["payload"].shape

    @property
    def input_cycles(self) -> int:
        """Clock cycles each input beat occupies: a new beat every ``input_cycles`` cycles."""
        return 1

    @property
    def beats_per_row(self) -> int:
        """Input beats per row: 1 (the whole row is one beat)."""
        return 1

    @property
    def memory_bits(self) -> int:
        """Bits of memory the unit holds: the ``"fifo"`` form's output FIFO, else 0."""
        width = Shape.cast(self.out_layout).width
        return flow_memory_bits(self.datapath_latency, self._flow_control, width)

    @property
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """Every parameter that shaped the design (for the sidecar JSON)."""

    @abstractmethod
    def elaborate_datapath(self, m: Module, payload, step: InputStep) -> Value:
        """Build the datapath in ``m`` from ``payload`` (a view of ``i.payload``).

        Returns the result in the output layout's bits, registered ``datapath_latency``
        cycles after the input. ``step`` matters to a folded unit only.
        """

    def elaborate(self, platform) -> Module:
        m = Module()
        connect_flow(m, i=self.i, o=self.o, datapath=self.elaborate_datapath,
                     datapath_latency=self.datapath_latency, flow_control=self._flow_control,
                     input_cycles=self.input_cycles, platform=platform)
        return m


class FixedLatencyStream(wiring.Component):
    """Any fixed-latency datapath as a stream component, in a flow-control form.

    ``datapath`` is either a callback ``datapath(module, payload, step) -> Value`` (as
    :meth:`FixedLatencyUnit.elaborate_datapath`) with its ``latency`` given, or a
    ``wiring.Component`` with a ``latency`` property, whose input member ``input`` is driven
    from ``i.payload`` and whose output member ``output`` becomes ``o.payload``.

    Parameters
    ----------
    datapath : callable or wiring.Component
    in_shape, out_shape : shape-castable
        Payloads of ``i`` and ``o`` (for a component: default its members' shapes).
    latency : int or None
        Cycles from input to registered result (a component's own ``latency`` by default; a
        component of latency 0 gets an output register).
    flow_control : {"enable", "skid", "fifo"}
    input, output : str
        Member names of a component (default ``"i"``-like: the first ``In`` and ``Out``).

    Members
    -------
    i : In(stream.Signature(in_shape)); o : Out(stream.Signature(out_shape))
    """

    def __init__(self, datapath, *, in_shape=None, out_shape=None, latency: int | None = None,
                 flow_control: str | None = None, input: str | None = None,
                 output: str | None = None) -> None:
        self._flow_control = check_flow_control(flow_control)
        if isinstance(datapath, wiring.Component):
            members = datapath.signature.members
            inputs = [name for name, member in members.items()
                      if member.is_port and member.flow == wiring.In]
            outputs = [name for name, member in members.items()
                       if member.is_port and member.flow == wiring.Out]
            input = inputs[0] if input is None else input
            output = outputs[0] if output is None else output
            for role, name in (("input", input), ("output", output)):
                if name not in members or not members[name].is_port:
                    raise ValueError(f"{role} must name a port member of the component, "
                                     f"not {name!r}")
            in_shape = members[input].shape if in_shape is None else in_shape
            out_shape = members[output].shape if out_shape is None else out_shape
            inner = datapath.latency if latency is None else latency
            self._extra_register = inner == 0
            self._datapath_latency = check_int("latency", inner + self._extra_register, 1)
            self._component, self._names = datapath, (input, output)
            self._callback = None
        elif callable(datapath):
            if latency is None or in_shape is None or out_shape is None:
                raise TypeError("a datapath callback needs latency, in_shape and out_shape")
            self._datapath_latency = check_int("latency", latency, 1)
            self._component, self._callback = None, datapath
        else:
            raise TypeError(f"datapath must be a callable or a wiring.Component, "
                            f"not {type(datapath).__name__}")
        super().__init__({"i": In(stream.Signature(in_shape)),
                          "o": Out(stream.Signature(out_shape))})

    @property
    def latency(self) -> int:
        return flow_latency(self._datapath_latency, self._flow_control)

    @property
    def flow_control(self) -> str:
        return self._flow_control

    def _component_datapath(self, m: Module, payload, step: InputStep) -> Value:
        input, output = self._names
        m.submodules.inner = self._component
        m.d.comb += getattr(self._component, input).eq(payload)
        result = Value.cast(getattr(self._component, output))
        if self._extra_register:
            register = Signal(len(result), name="result", reset_less=True)
            m.d.sync += register.eq(result)
            result = register
        return result

    def elaborate(self, platform) -> Module:
        m = Module()
        datapath = self._callback or self._component_datapath
        connect_flow(m, i=self.i, o=self.o, datapath=datapath,
                     datapath_latency=self._datapath_latency, flow_control=self._flow_control,
                     platform=platform)
        return m
