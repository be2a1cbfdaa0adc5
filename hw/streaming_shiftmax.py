"""The streaming Shiftmax: rows of N elements as ceil(N / P) beats of P lanes, bit-exact."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amaranth.hdl import Cat, Const, EnableInserter, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_int, check_shiftmax_params
from shiftmax.units import SHIFTMAX

from .adder_tree import SaturatingAdderTree, sum_bits
from .distance import Distance, distance_bits
from .floor_input import FloorInput, floored_bits, lane_frac_bits
from .formal import formal_build
from .framing import (
    RowFramer,
    StreamingUnit,
    absorbed_beats,
    beats_per_row,
    delay_stages,
    row_ends,
    streaming_input_layout,
    valid_delay,
)
from .max_tree import MaxTree
from .output_queue import OutputQueue, thermometer
from .output_shift import OutputShift
from .pipeline import (
    ceil_log2,
    check_pipeline_params,
    delay,
    is_greater,
    lanes,
    register,
    tree_latency,
    unsigned_bits,
    wire,
)
from .round_log2 import RoundLog2
from .shift_exp import ShiftExp
from .streaming_argmax import _check_streaming_common

__all__ = ["StreamingShiftmax"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = SHIFTMAX.defaults()


#: Lanes per group with its own copy of the output pass's control (``"fifo"`` form).
_GROUP_LANES = 4
#: The deepest distance buffer that yosys puts in LUT RAM at a group's width and at half of
#: it (xc7 RAM64M): 43 words at N = 197, P = 16; at N = 1000 (143 words) a group's memory
#: goes to block RAM, and a half group's would go to LUT RAM.
_LUT_RAM_WORDS = 64
#: The deepest buffer whose count of words held is a thermometer code (``_held_at_most``).
_THERMOMETER_WORDS = 64
#: Copies of the distances register in the most pipelined form, each decoding a slice of
#: every lane's term bits.
_DISTANCE_COPIES = 4


def _copy_mask(copy: int, width: int) -> int:
    """The constant copy ``copy`` of a register is held XOR with: 0, all ones, then
    alternating bits, so that no two copies have the same next value."""
    ones = (1 << width) - 1
    return (0, ones, 0x5555_5555 & ones, 0xAAAA_AAAA & ones)[copy]


def _advance(m: Module, pointer: Signal, depth: int, step,
             invariants: list[Value] | None = None) -> None:
    """Move a circular buffer pointer to its next position on ``step``. Unless ``depth`` is a
    power of two (the pointer then wraps by itself), the wrap is decided by a register beside
    the pointer (``pointer == depth - 1``), so no compare lies before the pointer's increment.

    Formal build: ``invariants`` (when given) gains the pointer's (below ``depth``, the
    register beside it equal to ``pointer == depth - 1``)."""
    at_last = None
    with m.If(step):
        if depth & (depth - 1) == 0:
            m.d.sync += pointer.eq(pointer + 1)
        else:
            at_last = Signal(name=f"{pointer.name}_at_last")
            m.d.sync += [pointer.eq(Mux(at_last, 0, pointer + 1)),
                         at_last.eq(pointer == depth - 2)]
    if invariants is not None and at_last is not None:
        invariants += [pointer < depth, at_last == (pointer == depth - 1)]


def _pointer_copies(m: Module, copies: int, step, depth: int, name: str,
                    invariants: list[Value] | None = None) -> list[Signal]:
    """``copies`` circular buffer pointers that advance together on ``step``: each copy's
    next value comes from the copy itself, so synthesis keeps them apart, and each drives
    the addresses of one lane group's memory instead of one pointer driving them all.

    Formal build: ``invariants`` (when given) gains each copy's and that the copies agree."""
    pointers = []
    for c in range(copies):
        pointer = Signal(range(depth), name=name if copies == 1 else f"{name}_g{c}")
        _advance(m, pointer, depth, step, invariants)
        pointers.append(pointer)
    if invariants is not None:
        invariants += [pointer == pointers[0] for pointer in pointers[1:]]
    return pointers


def _next_at_most(count: Signal, up, down, step: int, limit: int):
    """``count + step * up - down <= limit`` for the next cycle's count, as the selection of
    compares made on the register alone: the late ``up``/``down`` only choose among them
    (one LUT after them instead of an adder and a compare)."""
    def at_most(k: int):
        return _at_most(count, k)
    return Mux(up, Mux(down, at_most(limit - step + 1), at_most(limit - step)),
               Mux(down, at_most(limit + 1), at_most(limit)))


def _at_most(value: Value, k: int) -> Value:
    """``value <= k`` for a constant ``k``, as gates on the bits from the top down: no
    comparison cell, which yosys maps to a carry chain (a few LUTs are shorter here)."""
    value = Value.cast(value)
    if k < 0:
        return Const(0, 1)
    if k >= (1 << len(value)) - 1:
        return Const(1, 1)
    result = Const(1, 1)  # the empty suffix: equal so far
    for i in range(len(value)):  # from the lowest bit up, so ``result`` is for bits below i
        bit = value[i]
        result = (~bit | result) if (k >> i) & 1 else (~bit & result)
    return result


def _above_next(code: Signal, k: int, *, up, down) -> Value:
    """Bit ``k`` of a :func:`thermometer` code in the next cycle (the count above ``k``)."""
    def above(j: int) -> Value:
        return Const(1, 1) if j < 0 else Const(0, 1) if j >= len(code) else code[j]
    return Mux(up & ~down, above(k - 1), Mux(down & ~up, above(k + 1), above(k)))


def _held_at_most(m: Module, name: str, depth: int, limit: int, *, up, down,
                  held: list[Value] | None = None) -> Value:
    """Count the words a buffer of ``depth`` holds (one more with ``up``, one less with
    ``down``) and give "the next cycle's count is at most ``limit``", for a register.

    Up to :data:`_THERMOMETER_WORDS` the count is a :func:`thermometer` code (one LUT per
    bit, no carry chain); a deeper buffer (long rows) counts in binary, so that its logic
    does not grow with N. Formal build: ``held`` (when given) gains the count and, for a
    thermometer code, that it is one.
    """
    if depth <= _THERMOMETER_WORDS:
        code = thermometer(m, name, depth, up=up, down=down)
        if held is not None:
            held += [sum(code[k] for k in range(depth)),
                     (code[1:] & ~code[:-1]) == 0 if depth > 1 else Const(1, 1)]
        return ~_above_next(code, limit, up=up, down=down)
    count = Signal(range(depth + 1), name=name)
    m.d.sync += count.eq(_count_next(count, up, down, 1))
    if held is not None:
        held += [count, count <= depth]
    return _next_at_most(count, up, down, 1, limit)


def _wrapped(pointer: Value, offset: Value, depth: int) -> Value:
    """Formal build: the address ``offset`` (0 to ``depth - 1``) words past ``pointer`` in a
    circular buffer of ``depth`` words."""
    address = pointer + offset
    return Mux(address >= depth, address - depth, address)[:len(Value.cast(pointer))]


def _div_mod(value: Value, divisor: int) -> tuple[Value, Value]:
    """Formal build: ``value // divisor`` and ``value % divisor`` of an unsigned ``value``
    (bits for a power of two)."""
    value = Value.cast(value)
    if divisor & (divisor - 1) == 0:
        bits = divisor.bit_length() - 1
        return value[bits:] if len(value) > bits else Const(0, 1), value[:bits] if bits else \
            Const(0, 1)
    return value // divisor, value % divisor


def _count_next(count: Signal, up, down, step: int):
    """``count + step * up - down``, as a selection among sums of the register alone (the
    late ``up``/``down`` reach no carry chain)."""
    return Mux(up, Mux(down, count + (step - 1), count + step), Mux(down, count - 1, count))


class _RowFifo(wiring.Component):
    """A FIFO of one entry per row (a row's maximum, a row's shift): LUT RAM read
    asynchronously, its head at ``r_data`` while ``r_rdy``.

    Unlike ``amaranth.lib.fifo.SyncFIFO``, the head taken (``r_en`` while ``r_rdy``) leaves
    a cycle later, from a register, and ``r_rdy`` is a register too: the late ``r_en`` only
    sets a flip-flop, and the next count and its emptiness are selected among values computed
    from the count register alone (``_count_next``, ``_next_at_most``). So ``r_en`` may be
    high at most every other cycle (a pass starts a row at most every other cycle: R >= 2).
    The unit never writes a full FIFO (its depth covers every row that can wait in it), so
    there is no ``w_rdy``.
    """

    def __init__(self, *, width: int, depth: int) -> None:
        self._width, self._depth = width, depth
        super().__init__({"w_en": In(1), "w_data": In(width),
                          "r_en": In(1), "r_data": Out(width), "r_rdy": Out(1)})
        #: Formal build only: the entries counted, and a head taken last cycle (still
        #: counted); driven by the FIFO.
        self.formal_count = Signal(range(depth + 1), name="formal_count")
        self.formal_taken = Signal(name="formal_taken")
        #: Formal build only: the entry ``formal_offset`` entries from the head (driven by
        #: the unit), read asynchronously into ``formal_entry`` (driven by the FIFO).
        self.formal_offset = Signal(range(depth), name="formal_offset")
        self.formal_entry = Signal(width, name="formal_entry")

    def elaborate(self, platform) -> Module:
        m = Module()
        depth = self._depth
        m.submodules.memory = memory = Memory(shape=unsigned(self._width), depth=depth, init=[])
        write, read = memory.write_port(), memory.read_port(domain="comb")
        write_pointer = Signal(range(depth), name="write_pointer")
        read_pointer = Signal(range(depth), name="read_pointer")
        count = Signal(range(depth + 1), name="count")
        taken = valid_delay(m, self.r_en & self.r_rdy, 1, name="taken")
        m.d.comb += [write.addr.eq(write_pointer), write.en.eq(self.w_en),
                     write.data.eq(self.w_data),
                     read.addr.eq(read_pointer), self.r_data.eq(read.data)]
        formal = formal_build(platform)
        invariants: list[Value] | None = [] if formal is not None else None
        _advance(m, write_pointer, depth, self.w_en, invariants)
        _advance(m, read_pointer, depth, taken, invariants)
        m.d.sync += [count.eq(_count_next(count, self.w_en, taken, 1)),
                     self.r_rdy.eq(~_next_at_most(count, self.w_en, taken, 1, 0))]
        if formal is not None:
            # The count stays at most ``depth`` (the unit's invariants, which bound the rows,
            # imply it) and agrees with the pointers; the head is ready exactly while the
            # count is not 0; a head taken (counted a cycle late) is still counted, and is
            # not taken again.
            end = read_pointer + count
            invariants += [count <= depth,
                           write_pointer == Mux(end >= depth, end - depth, end),
                           self.r_rdy == (count != 0), ~taken | (count != 0),
                           ~(taken & self.r_en)]
            formal.check(m, invariants)
            m.d.comb += [self.formal_count.eq(count), self.formal_taken.eq(taken)]
            entry = memory.read_port(domain="comb")
            m.d.comb += [entry.addr.eq(_wrapped(read_pointer, self.formal_offset, depth)),
                         self.formal_entry.eq(entry.data)]
        return m


@dataclass(frozen=True)
class _RowRecord:
    """Formal build: what the streaming shiftmax makes of the tracked row, lane by lane over
    the row padded to whole beats: the lanes as the framer gives them (``fitted``: absent
    ones ``-2**VB``; ``absent``), floored, the maximum of the first ``count`` lanes
    (``maximum(count, name)``) and of beat ``b``'s (``beat_maximum(b)``), the row's maximum,
    the saturated distances, the sums of the terms of the first ``b`` beats (``sums[b]``)
    and of beat ``b`` alone, the row's sum clamped, ``t`` and each lane's output."""

    fitted: list[Value]
    absent: list[Value]
    floored: list[Value]
    maximum: Callable[[int, str], Value]
    beat_maximum: Callable[[int], Value]
    row_max: Value
    saturated: list[Value]
    sums: list[Value]
    beat_sums: list[Value]
    clamped: Value
    t: Value
    outputs: list[Value]


class StreamingShiftmax(StreamingUnit, wiring.Component):
    """Quantized shiftmax of rows that stream in as beats of P lanes, bit-exact.

    Per row it computes ``shiftmax.golden.quantized_shiftmax(x, mask=...)`` on the row the
    contract's framing forms (``streaming.md``: tlast, early and missing tlast, lanes past N
    ignored), and sends it out as the same number of beats, ``R = ceil(n / P)``, with
    ``last`` on the row's last beat and ``user`` on every beat of a malformed row. The sum is
    the golden model's exact integer sum, clamped once at the end.

    Architecture: three passes over two row buffers (``docs/streaming.md`` has the diagram
    and the measurements behind it), each pass one beat per clock, rows back to back:

    1. **Input**: :class:`~shiftmax.hw.framing.RowFramer` (absent lanes take ``-2**VB``),
       :class:`FloorInput`, and the floored lanes with their absent bits written into the
       *row buffer*; a P-lane :class:`MaxTree` and a running maximum (one compare-select
       loop). At the row's end its maximum ``M`` goes into a small FIFO.
    2. **Sum**: once a row is complete and its ``M`` known, the row is read back, one beat
       per clock: :class:`Distance` (absent lanes forced to the saturated distance),
       written into the *distance buffer*; :class:`ShiftExp` and a P-lane
       :class:`SaturatingAdderTree` (never clamping) give the beat's exact term sum, and one
       accumulator, wide enough for ``n * 2**(2e)``, adds it. The row's sum is clamped to
       ``2**(B-1) - 1`` once, then :class:`RoundLog2` gives ``t = 3e - R`` into a small FIFO.
    3. **Output**: the row's distances are read back with its ``t``; :class:`OutputShift`
       and the output register. This pass alone stalls on ``o.ready``: one clock enable
       ``ce = o.ready | ~o.valid`` (flow control ``"enable"``), or credits of an output
       queue whose slice alone sees ``o.ready`` (``"fifo"``, :class:`OutputQueue`).

    Both buffers are circular (Amaranth ``lib.memory``, one write and one synchronous read
    port: block RAM or LUT RAM as synthesis sees fit) and credit-counted: pass 1 takes a beat
    only while the row buffer has room; pass 2 starts a row only when the distance buffer
    has room for all of it, so passes 1 and 2 never stall in mid-row and need no enable.
    Their depths are what one beat per clock needs, rows back to back
    (:attr:`buffer_depths`).

    Number format: input lane ``j`` of beat ``b`` is element ``b*P + j``, two's complement
    ``value_bits + 1`` bits with ``frac_bits`` fractional bits; output lanes unsigned
    ``e + 1`` bits, ``e`` fractional bits (``2**e`` is 1.0), 0 on masked lanes and on lanes
    past ``n``.

    Parameters
    ----------
    n : int
        Elements per row, at least 2.
    value_bits : int
        Magnitude bits per element, sign not counted (1 to 31).
    lanes_per_beat : int
        ``P``, 1 to ``n - 1`` (``n`` is the one-beat unit, :class:`~shiftmax.hw.Shiftmax`).
    frac_bits : int
        Fractional bits of every element, -31 to 31 (default 0); a per-lane list only when
        its entries are all equal (a lane of the beat carries a different element every beat).
    exp_bitwidth, buffer_bitwidth, round_log2
        As for :class:`~shiftmax.hw.Shiftmax` (defaults 10, 32, ``"exact"``).
    register_every : int
        A register after every K levels of the beat's max and adder trees (default 2).
    stage_registers : bool
        Registers between the stages of each pass (default True).
    flow_control : {"enable", "fifo"} or None
        See above; None (the default): ``"fifo"``, the registry's ``DEFAULT_FLOW_CONTROL``.
    mask : bool
        A per-lane mask input (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout(data=ArrayLayout(signed(VB+1), P), [mask=P,] last=1)))
    o : Out(stream.Signature(StructLayout(data=ArrayLayout(e + 1, P), last=1, user=1)))

    Latency
    -------
    ``R + 13 + 5 * stage_registers + 2 * (stage_registers and register_every == 1)
    + 2 * (flow_control == "fifo") + 2 * ((ceil(log2 P) - 1) // register_every)`` (the tree
    term is 0 when ``register_every`` is 0 or ``P <= 2``; 35 for N = 197, P = 16 and the
    defaults): edges
    from the handshake of a row's last input beat to the handshake of its first output
    beat, ``o.ready`` high. Pass 2 reads the whole row after its last beat, hence the ``R``.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value.
    """

    unit_name = "shiftmax"

    def __init__(self, *, n: int, value_bits: int, lanes_per_beat: int,
                 frac_bits=_DEFAULTS["frac_bits"], exp_bitwidth: int = _DEFAULTS["exp_bitwidth"],
                 buffer_bitwidth: int = _DEFAULTS["buffer_bitwidth"],
                 round_log2: str = _DEFAULTS["round_log2"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 flow_control: str | None = None, mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 2)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._p, self._flow_control, self._mask = _check_streaming_common(
            self._n, lanes_per_beat, flow_control, mask, forms=("enable", "fifo"))
        per_lane = lane_frac_bits(frac_bits, self._n)
        if len(set(per_lane)) != 1:
            raise ValueError(f"frac_bits must be one value for every element in the streaming "
                             f"form (lane j of a beat carries element b*P + j), not {per_lane}")
        self._frac_bits = per_lane[0]
        self._exp_bitwidth, self._buffer_bitwidth, self._round_log2 = check_shiftmax_params(
            exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth, round_log2=round_log2,
            n=self._n)
        self._register_every, self._stage_registers = check_pipeline_params(
            register_every, stage_registers)
        self._beats = beats_per_row(self._n, self._p)
        self._floored_bits = floored_bits(self._value_bits, [self._frac_bits])
        # As wide as Distance makes them (the buffer and the decoders take its lanes).
        self._distance_bits = distance_bits(self._floored_bits, self._exp_bitwidth)
        in_layout = streaming_input_layout(lanes_per_beat=self._p, value_bits=self._value_bits,
                                           mask=self._mask)
        out_layout = data.StructLayout({
            "data": data.ArrayLayout(unsigned(self._exp_bitwidth + 1), self._p),
            "last": unsigned(1), "user": unsigned(1)})
        super().__init__({"i": In(stream.Signature(in_layout)),
                          "o": Out(stream.Signature(out_layout))})

    # --- parameters ---------------------------------------------------------------------

    @property
    def frac_bits(self) -> int:
        return self._frac_bits

    @property
    def exp_bitwidth(self) -> int:
        return self._exp_bitwidth

    @property
    def buffer_bitwidth(self) -> int:
        return self._buffer_bitwidth

    @property
    def round_log2(self) -> str:
        return self._round_log2

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "frac_bits": self._frac_bits,
                "exp_bitwidth": self._exp_bitwidth, "buffer_bitwidth": self._buffer_bitwidth,
                "round_log2": self._round_log2, "register_every": self._register_every,
                "stage_registers": self._stage_registers,
                "flow_control": self._flow_control, "lanes_per_beat": self._p,
                "mask": self._mask}

    # --- timing -------------------------------------------------------------------------

    @property
    def _split_distance(self) -> bool:
        """The most pipelined form also registers the raw differences inside Distance and
        the one-hot terms before the beat's adder tree."""
        return self._stage_registers and self._register_every == 1

    @property
    def _tree_latency(self) -> int:
        return tree_latency(self._p, self._register_every)

    @property
    def _pass1_lag(self) -> int:
        """Cycles from a row's last beat leaving the framer to pass 2 reading its first beat."""
        return 3 + self._tree_latency + int(self._stage_registers)

    @property
    def _pass2_lag(self) -> int:
        """Cycles from pass 2 reading a row's last beat to pass 3 reading its first beat."""
        s = int(self._stage_registers)
        return 7 + 2 * s + 2 * int(self._split_distance) + self._tree_latency + s

    @property
    def _output_lag(self) -> int:
        """Cycles from pass 3 reading a beat to its result offered at ``o``."""
        return 3 + int(self._stage_registers) + 2 * int(self._flow_control == "fifo")

    @property
    def _output_fifo_depth(self) -> int:
        """Credits of the ``"fifo"`` form's output queue, the most results its memory holds:
        every result from its read to its move into the queue's output slice, at one per
        clock, with a cycle to spare."""
        return self._output_lag + 2

    @property
    def latency(self) -> int:
        # framer, pass 1, the row read by pass 2, pass 2 to pass 3, pass 3 (read, output
        # shift, output register)
        return 1 + self._pass1_lag + self._beats + self._pass2_lag - 1 + self._output_lag

    @property
    def buffer_depths(self) -> tuple[int, int]:
        """Words of the row buffer and of the distance buffer (one beat each).

        A beat waits in the row buffer from the framer until pass 2 reads it, about
        ``R + pass-1 lag`` cycles; a distance waits from pass 2's reservation of its row to
        pass 3's read, and pass 2 reserves a whole row at a time: ``2R + pass-2 lag``.
        """
        r = self._beats
        return r + self._pass1_lag + 3, 2 * r + self._pass2_lag + 2

    @property
    def memory_bits(self) -> int:
        """Bits of every memory: the two row buffers, the two per-row FIFOs (M; t) and, in
        the ``"fifo"`` form, the output queue's."""
        (row, dist), (row_rows, dist_rows) = self.buffer_depths, self._row_fifo_depths
        bits = (row * self._p * (self._floored_bits + 1) + dist * self._p * self._distance_bits
                + row_rows * (self._floored_bits + 1) + dist_rows * (self._shift_bits + 1))
        if self._flow_control == "fifo":
            words = 1 << ceil_log2(self._output_fifo_depth)  # as OutputQueue.words
            bits += words * (self._p * (self._exp_bitwidth + 1) + 2)
        return bits

    @property
    def _row_fifo_depths(self) -> tuple[int, int]:
        """Entries of the FIFOs of row maxima and of row shifts: every row that can be
        complete in a buffer and not yet started by the next pass, and one more."""
        (row, dist), r = self.buffer_depths, self._beats
        return row // r + 2, dist // r + 2

    @property
    def _shift_bits(self) -> int:
        """Width of ``t = 3e - R`` as :class:`RoundLog2` makes it (checked in elaborate)."""
        e = self._exp_bitwidth
        return unsigned_bits(max(e, sum_bits(self._n, e, self._buffer_bitwidth) - 3 * e)) + 1

    # --- hardware -----------------------------------------------------------------------

    def elaborate(self, platform) -> Module:
        m = Module()
        p, r, e = self._p, self._beats, self._exp_bitwidth
        fb, db = self._floored_bits, self._distance_bits
        s = self._stage_registers
        row_depth, dist_depth = self.buffer_depths
        # Formal build: the invariants of the unit's own registers (pointers, copies, pass
        # state), asserted at the end.
        formal = formal_build(platform)
        invariants: list[Value] | None = [] if formal is not None else None

        def stage(value, name: str):
            return register(m, value, name=name) if s else value

        def stage_valid(value, name: str, stages: list[Value] | None = None):
            return valid_delay(m, value, int(s), name=name, stages=stages)

        def kept(value, cycles: int, name: str, keep: list[Value] | None = None):
            """``delay(m, value, cycles, name=name)``, each register appended to ``keep``."""
            for k in range(cycles):
                value = register(m, value, name=f"{name}_d{k + 1}")
                if keep is not None:
                    keep.append(value)
            return value

        # Pass 1: framing, floor, row buffer write, running maximum.
        framer = RowFramer(n=self._n, lanes_per_beat=p, value_bits=self._value_bits,
                           mask=self._mask, fill=True)
        framer_beat = framer_filling = None
        if formal is None:
            m.submodules.framer = framer
        else:
            # Elaborated here (the same logic), so that the formal build reads its beat counter.
            body = framer.elaborate(platform)
            framer._MustUse__silence = True
            m.submodules.framer = body
            driven = {signal.name: signal for signal in body._driving}
            framer_beat, framer_filling = driven["beat"], driven["filling"]
        wiring.connect(m, wiring.flipped(self.i), framer.i)
        m.submodules.floor = floor = FloorInput(n=p, value_bits=self._value_bits,
                                                frac_bits=self._frac_bits)
        m.d.comb += floor.x.eq(framer.lanes)
        # The row buffer, one memory per lane group (the "fifo" form's groups), each
        # addressed by its own copy of the pointers.
        groups = self._lane_groups
        row_ports = []
        row_memories: list[Memory] = []  # (formal build: read by its statements)
        dist_memories: list[Memory] = []
        for g, (lo, hi) in enumerate(groups):
            memory = Memory(shape=unsigned((hi - lo) * (fb + 1)), depth=row_depth, init=[])
            m.submodules[f"row_buffer{g}" if len(groups) > 1 else "row_buffer"] = memory
            row_ports.append((memory.write_port(), memory.read_port()))
            row_memories.append(memory)
        # Beats in the row buffer or on their way (one may be in the framer's register).
        # The framer's space is a register: computed a cycle ahead, as if a beat were
        # taken in every cycle (conservative by at most one word), so no adder or compare
        # lies between the buffer's count and s_axis_tready.
        row_space = Signal(name="row_space")
        m.d.comb += framer.space.eq(row_space)
        row_wps = _pointer_copies(m, len(groups), framer.valid, row_depth, "row_wp",
                                  invariants)
        for (row_write, _), (lo, hi), row_wp in zip(row_ports, groups, row_wps, strict=True):
            m.d.comb += [row_write.addr.eq(row_wp), row_write.en.eq(framer.valid),
                         row_write.data.eq(Cat(floor.floored.as_value()[lo * fb:hi * fb],
                                               framer.absent[lo:hi]))]

        m.submodules.max_tree = max_tree = MaxTree(n=p, width=fb,
                                                   register_every=self._register_every)
        m.d.comb += max_tree.values.eq(floor.floored)
        # (Formal build: the valid and last bits of every stage of pass 1, of pass 2.)
        valids1: list[Value] = []
        valid1 = stage_valid(valid_delay(m, framer.valid, max_tree.latency, name="v1",
                                         stages=valids1), "v1s", valids1)
        flags1: dict[str, list[Value]] = {"first1": [], "last1": [], "malformed1": []}
        first1, last1, malformed1 = (
            stage(kept(f, max_tree.latency, name, flags1[name]), f"{name}_s") for f, name in (
                (framer.first, "first1"), (framer.last, "last1"),
                (framer.malformed, "malformed1")))
        if s:
            for name, flag in zip(flags1, (first1, last1, malformed1), strict=True):
                flags1[name].append(flag)
        lasts1 = flags1["last1"]
        beat_max = stage(max_tree.maximum, "beat_max")
        running = Signal(signed(fb), name="running_max", reset_less=True)
        row_max = wire_signed(m, Mux(first1 | is_greater(beat_max, running), beat_max, running),
                              fb, "row_max")
        with m.If(valid1):
            m.d.sync += running.eq(row_max)
        row_rows, dist_rows = self._row_fifo_depths
        m.submodules.row_info = row_info = _RowFifo(width=fb + 1, depth=row_rows)
        # The row's maximum goes into the FIFO from the register, a cycle after its last beat
        # (the compare-select stays out of the FIFO's write path).
        row_done = valid_delay(m, valid1 & last1, 1, name="row_done")
        row_malformed = register(m, malformed1, name="row_malformed")
        m.d.comb += [row_info.w_en.eq(row_done),
                     row_info.w_data.eq(Cat(running, row_malformed))]

        # Pass 2: read the row back with its maximum; distances; the exact sum; RoundLog2.
        # The distance buffer, in the "fifo" form one memory per half lane group, each
        # addressed by its own copy of the write and read pointers (one pointer's fan-out to
        # every LUT RAM cell of the beat, then of a group, set ECP5 Fmax). ``dist_ports``:
        # per group, its memories' (write, read) ports.
        dist_parts = self._dist_parts
        dist_ports = []
        for g, parts in enumerate(dist_parts):
            ports = []
            for k, (lo, hi) in enumerate(parts):
                memory = Memory(shape=unsigned((hi - lo) * db), depth=dist_depth, init=[])
                m.submodules[f"dist_buffer{g}_{k}"] = memory
                ports.append((memory.write_port(), memory.read_port()))
                dist_memories.append(memory)
            dist_ports.append(ports)
        active2 = Signal(name="active2")
        beat2 = Signal(range(r), name="beat2")
        at_end2 = Signal(name="at_end2")  # beat2 == r - 1, kept as a register beside it
        maximum2 = Signal(signed(fb), name="maximum2", reset_less=True)
        user2 = Signal(name="user2", reset_less=True)
        decide2 = ~active2 | at_end2
        start2 = Signal(name="start2")
        dist_room = Signal(init=1, name="dist_room")  # room for a row, registered (below)
        m.d.comb += [start2.eq(decide2 & row_info.r_rdy & dist_room),
                     row_info.r_en.eq(start2)]
        row_rps = _pointer_copies(m, len(groups), active2, row_depth, "row_rp", invariants)
        for (_, row_read), row_rp in zip(row_ports, row_rps, strict=True):
            m.d.comb += row_read.addr.eq(row_rp)
        with m.If(active2):
            m.d.sync += [beat2.eq(beat2 + 1),
                         at_end2.eq(beat2 == r - 2)]
        with m.If(decide2):
            m.d.sync += [active2.eq(start2), beat2.eq(0), at_end2.eq(0)]
        with m.If(start2):
            m.d.sync += [maximum2.eq(row_info.r_data[:fb]), user2.eq(row_info.r_data[fb])]
        row_held: list[Value] | None = [] if formal is not None else None
        m.d.sync += row_space.eq(_held_at_most(m, "row_held", row_depth, row_depth - 2,
                                               up=framer.valid, down=active2, held=row_held))
        if invariants is not None:
            # Pass 2's beat counter: below R, ``at_end2`` beside it, 0 between rows.
            invariants += [beat2 < r, at_end2 == (beat2 == r - 1), active2 | (beat2 == 0)]

        # The beat read from the row buffer arrives one cycle after its address.
        issued = ((at_end2, "last2"), (user2, "user2"), (maximum2, "max2"))
        valids2: list[Value] = []
        lasts2: list[Value] = []
        valid2 = stage_valid(valid_delay(m, active2, 1, name="v2", stages=valids2), "v2s",
                             valids2)
        staged2 = []
        firsts2 = {}
        for f, name in issued:
            first_stage = firsts2[name] = register(m, f, name=f"{name}_m")
            staged2.append(stage(first_stage, f"{name}_s"))
            if name == "last2":
                lasts2 += [first_stage] + ([staged2[-1]] if s else [])
        last2, user2d, max2d = staged2
        reads = [(read.data, hi - lo) for (_, read), (lo, hi) in zip(row_ports, groups,
                                                                     strict=True)]
        word = stage(Cat(*(data[:size * fb] for data, size in reads),
                         *(data[size * fb:] for data, size in reads)), "row_word")
        # (Formal build: what each stage of pass 2 holds, by kind, parallel to ``valids2``;
        # then the stages of ``row_ends2``.)
        held2: list[dict[str, Value]] = [
            {"words": Cat(*(data for data, _ in reads)), "max": firsts2["max2"],
             "user": firsts2["user2"]}]
        if s:
            held2.append({"word": word, "max": max2d, "user": user2d})
        m.submodules.distance = distance = Distance(n=p, width=fb, exp_bitwidth=e,
                                                    register_inside=self._split_distance)
        m.d.comb += [distance.maximum.eq(max2d), distance.values.eq(word[:p * fb])]
        split = distance.latency
        absent2 = delay(m, word[p * fb:], split, name="absent2")
        valid2 = valid_delay(m, valid2, split, name="v2d", stages=valids2)
        users: list[Value] = []
        last2, user2d = (kept(f, split, name, lasts2 if name == "last2d" else users)
                         for f, name in ((last2, "last2d"), (user2d, "user2d")))
        held2 += [{"user": user} for user in users]  # the differences inside: not stated
        # Absent lanes take the saturated distance: a zero term and a zero output.
        saturated = [distance.distance[j] | absent2[j].replicate(db) for j in range(p)]
        distances = register(m, lanes(saturated, db), name="distances")
        valid2 = valid_delay(m, valid2, 1, name="v2r", stages=valids2)
        last2, user2d = (register(m, f, name=f"{name}_r") for f, name in (
            (last2, "last2"), (user2d, "user2")))
        lasts2.append(last2)
        held2.append({"distances": distances, "user": user2d})
        words_stages = len(valids2)  # the stages up to the distance buffer's write
        flat_parts = [part for parts in dist_parts for part in parts]
        flat_ports = [port for ports in dist_ports for port in ports]
        dist_wps = _pointer_copies(m, len(flat_parts), valid2, dist_depth, "dist_wp",
                                   invariants)
        for (dist_write, _), (lo, hi), dist_wp in zip(flat_ports, flat_parts, dist_wps,
                                                     strict=True):
            m.d.comb += [dist_write.addr.eq(dist_wp), dist_write.en.eq(valid2),
                         dist_write.data.eq(distances[lo * db:hi * db])]

        # The beat's sum never clamps: the tree is as wide as P terms can reach.
        beat_bits = p.bit_length() + 2 * e
        m.submodules.beat_sum = beat_tree = SaturatingAdderTree(
            n=p, exp_bitwidth=e, buffer_bitwidth=beat_bits + 1,
            register_every=self._register_every)
        # (Most pipelined: the one-hot terms are registered too, and each slice of every
        # lane's term bits decodes its own copy of the distances register, held XOR a
        # constant of its own (synthesis would merge plain copies into one): the distances
        # fan out to P decoders, and that routing set ECP5 Fmax.)
        copies = _DISTANCE_COPIES if self._split_distance else 1
        term_bits = 2 * e + 1
        slices = [(c * term_bits // copies, (c + 1) * term_bits // copies)
                  for c in range(copies)]
        decoders = []
        for c in range(copies):
            mask = Const(_copy_mask(c, db), db).replicate(p)
            copy = distances if c == 0 else register(m, lanes(saturated, db) ^ mask,
                                                     name=f"distances_c{c}")
            decoder = ShiftExp(n=p, exp_bitwidth=e, distance_bits=db)
            m.submodules["shift_exp" if c == 0 else f"shift_exp_c{c}"] = decoder
            m.d.comb += decoder.distance.eq(copy ^ mask)
            decoders.append(decoder)
        terms = Cat(*(decoder.term[j][lo:hi] for j in range(p)
                      for decoder, (lo, hi) in zip(decoders, slices, strict=True)))
        if self._split_distance:
            terms = register(m, terms, name="terms")
        m.d.comb += beat_tree.term.eq(terms)
        beat_sum = register(m, beat_tree.total, name="beat_sum")
        cycles = beat_tree.latency + 1 + int(self._split_distance)
        valid2 = valid_delay(m, valid2, cycles, name="v2t", stages=valids2)
        users = []
        last2, user2d = (kept(f, cycles, name, lasts2 if name == "last2t" else users)
                         for f, name in ((last2, "last2t"), (user2d, "user2t")))
        held2 += [{"user": user} for user in users]  # the terms and the tree: not stated
        held2[-1]["beat_sum"] = beat_sum

        # The one loop of pass 2: an exact accumulator (nothing clamps before the row's end).
        total_bits = self._n.bit_length() + 2 * e
        # ``carried`` is what the next beat adds to: the row's sum so far, cleared after the
        # row's last beat (pass 2 reads a row without a gap, so the next beat added is the
        # first of a row exactly when the cycle before held no beat or a last one). The clear
        # is the register's synchronous reset: no select between the carry chain and the
        # register. ``total`` keeps every sum, the row's at its last beat.
        total = Signal(total_bits, name="total", reset_less=True)
        carried = Signal(total_bits, name="carried", reset_less=True)
        row_sum = wire(m, carried + beat_sum, name="row_sum")
        m.d.sync += carried.eq(Mux(valid2 & ~last2, row_sum, 0))
        with m.If(valid2):
            m.d.sync += total.eq(row_sum)
        total_valid = valid_delay(m, valid2 & last2, 1, name="total_valid")
        total_user = register(m, user2d, name="total_user")
        cap = self._buffer_bitwidth - 1
        clamped = total
        if total_bits > cap:
            clamped = Mux(total[cap:].any(), (1 << cap) - 1, total[:cap])
        clamped = stage(clamped[:sum_bits(self._n, e, self._buffer_bitwidth)], "clamped")
        row_ends2 = [total_valid]  # rows pass 2 has summed, not yet in row_shift
        summed2 = [{"total": total, "user": total_user}]  # (formal build: as held2)
        total_valid, total_user = (stage_valid(total_valid, "tv_s", row_ends2),
                                   stage(total_user, "tu_s"))
        if s:
            summed2.append({"clamped": clamped, "user": total_user})
        m.submodules.round_log2 = round_log2 = RoundLog2(
            n=self._n, exp_bitwidth=e, buffer_bitwidth=self._buffer_bitwidth,
            round_log2=self._round_log2, register_inside=s)
        m.d.comb += round_log2.total.eq(clamped)
        if round_log2.shift_bits != self._shift_bits:
            raise RuntimeError(f"RoundLog2 makes t {round_log2.shift_bits} bits wide, "
                               f"memory_bits counts {self._shift_bits}")
        shift = register(m, round_log2.shift, name="shift")
        shift_valid = valid_delay(m, total_valid, round_log2.latency + 1, name="shift_valid",
                                  stages=row_ends2)
        shift_users = delay_stages(m, total_user, round_log2.latency + 1, name="shift_user")
        shift_user = shift_users[-1]
        summed2 += [{"user": user} for user in shift_users[1:]]  # inside RoundLog2: not stated
        summed2[-1]["shift"] = shift
        m.submodules.row_shift = row_shift = _RowFifo(width=round_log2.shift_bits + 1,
                                                      depth=dist_rows)
        m.d.comb += [row_shift.w_en.eq(shift_valid),
                     row_shift.w_data.eq(Cat(shift, shift_user))]

        # Pass 3: read the distances back with the row's t.
        pass3: dict[str, Any] | None = {} if formal is not None else None
        taken = self._output_pass(m, row_shift=row_shift, pass3=pass3,
                                  dist_reads=[[read for _, read in ports]
                                              for ports in dist_ports],
                                  dist_depth=dist_depth, shift_bits=round_log2.shift_bits,
                                  invariants=invariants)
        # The distance words held: a word is counted when pass 2 reads its beat and freed
        # when pass 3 reads it, both a cycle late (from registers). When pass 2 decides on the
        # next row, the last two beats of the row it ends are not counted yet: a row fits
        # when the count, those two and r words do.
        counted = valid_delay(m, active2, 1, name="dist_counted")
        freed = valid_delay(m, taken, 1, name="freed")
        dist_held: list[Value] | None = [] if formal is not None else None
        m.d.sync += dist_room.eq(_held_at_most(m, "dist_held", dist_depth, dist_depth - r - 2,
                                               up=counted, down=freed, held=dist_held))
        if formal is not None:
            self._formal_counts(
                formal, m, invariants, r=r, framer=framer, framer_beat=framer_beat,
                row_info=row_info,
                row_shift=row_shift, row_held=row_held, row_space=row_space,
                row_pointers=(row_wps[0], row_rps[0], row_depth),
                dist_held=dist_held, dist_room=dist_room,
                dist_pointers=(dist_wps[0], pass3["read_pointer"], dist_depth),
                counted=counted, freed=freed, active2=active2, beat2=beat2,
                pass1=row_ends(zip(valids1, lasts1, strict=True)) + row_done,
                pass2=row_ends(zip(valids2, lasts2, strict=True)) + sum(row_ends2),
                words2=sum(valids2[:words_stages]), pass3=pass3,
                row_state=dict(filling=framer_filling,
                               pass1=dict(valids=valids1, flags=flags1, beat_max=beat_max,
                                          running=running, done=row_done,
                                          malformed=row_malformed),
                               row_memories=row_memories, dist_memories=dist_memories,
                               dist_parts=flat_parts, shift_bits=round_log2.shift_bits,
                               pass2=dict(valids=valids2, lasts=lasts2, held=held2,
                                          ends=row_ends2, summed=summed2, carried=carried,
                                          maximum=maximum2, user=user2)))
        return m

    def _formal_counts(self, formal, m: Module, invariants: list[Value], *, r: int, framer,
                     framer_beat: Value, row_info: _RowFifo, row_shift: _RowFifo,
                     row_held: list[Value], row_space: Value, row_pointers, dist_held,
                     dist_room: Value, dist_pointers, counted: Value, freed: Value,
                     active2: Value, beat2: Value, pass1: Value, pass2: Value,
                     words2: Value, pass3: dict[str, Any],
                     row_state: dict[str, Any]) -> None:
        """Formal build: what the unit holds, in output beats it still owes (``R`` per row
        taken, less the beats of its oldest row already given out), reported on
        ``formal_rows_held`` (the property module asserts it equal to ``R * rows in flight
        - beat of the output row``, which also ties its output beat to the unit's state),
        with the invariants of the counts that induction needs and each beat in flight with
        its last bit.

        ``pass1``: row ends past the framer, before ``row_info``; ``pass2``: rows pass 2
        has read, before ``row_shift``; ``words2``: beats pass 2 has read, not yet written
        into the distance buffer; ``row_pointers``, ``dist_pointers``: (write, read, depth).
        """
        row_count, row_code = row_held
        dist_count, dist_code = dist_held

        def agree(pointers, count: Value) -> Value:
            """The pointers and ``count`` (0 to the depth: a buffer may be full) agree."""
            write, read, depth = pointers
            apart = Mux(write >= read, write - read, write + depth - read)
            return (count >= 0) & (count <= depth) & (
                apart == Mux(count >= depth, count - depth, count))

        rows1 = pass1 + row_info.formal_count - row_info.formal_taken
        rows2 = pass2 + row_shift.formal_count - row_shift.formal_taken
        active3, beat3 = pass3["active3"], pass3["beat3"]
        reading2 = Mux(active2, r - beat2, 0)  # beats of pass 2's row still to read
        reading3 = Mux(active3, r - beat3, 0)  # beats of pass 3's row still to read
        emitted = Mux(framer.valid & framer.last, r, framer_beat)  # of the framer's row
        # The distance buffer's words: counted a cycle after pass 2 reads a beat, freed a
        # cycle after pass 3 reads one, written after the stages of ``words2``.
        dist_words = dist_count + counted - freed - words2
        invariants += [
            row_code, dist_code,
            agree(row_pointers, row_count),
            row_count + framer.valid == emitted + r * rows1 + reading2,
            ~row_space | (row_count <= row_pointers[2] - 2),
            agree(dist_pointers, dist_words),
            words2 + dist_words == Mux(active2, beat2, 0) + r * rows2 + reading3,
            dist_room == (dist_count <= dist_pointers[2] - r - 2),
            ~row_info.formal_taken | (active2 & (beat2 == 0)),
            ~row_shift.formal_taken | (active3 & (beat3 == 0)),
            active3 | (beat3 == 0),
        ]
        # The beats issued by pass 3, oldest first, each (valid, last bit).
        slots: list[tuple[Value, Value]] = []
        if self._flow_control == "fifo":
            queue, bit = pass3["queue"], pass3["last_bit"]
            stored = queue.formal_stored
            slots += [(queue.formal_out_valid, queue.formal_out[bit]),
                      (queue.formal_skid_valid, queue.formal_skid[bit])]
            slots += [(stored > k, word[bit]) for k, word in enumerate(queue.formal_words)]
            stages = sum(valid for valid, _ in pass3["beats"])
            invariants += [pass3["in_flight"] == stages + stored,
                           ~pass3["credit"] | (pass3["in_flight"] <= pass3["depth"] - 1),
                           pass3["in_flight"] <= pass3["depth"]]
        slots += list(reversed(pass3["beats"]))
        issued = sum(valid for valid, _ in slots)
        owed = (r * (framer.rows_held + rows1 + active2 + rows2) + reading3 + issued)
        # A beat with k beats ahead of it is beat (k - owed) mod R of its row.
        ahead: Value = Const(0, 1)
        for valid, last in slots:
            behind = (owed - ahead - 1).as_unsigned()
            invariants.append(~valid | (last == (behind % r == 0)))
            ahead = ahead + valid
        formal.hold(m, owed, invariants)
        queue_slots = []
        if self._flow_control == "fifo":
            queue_slots = [(queue.formal_out_valid, queue.formal_out),
                           (queue.formal_skid_valid, queue.formal_skid)]
            queue_slots += [(stored > k, word) for k, word in enumerate(queue.formal_words)]
        named = {name: wire(m, value, name=f"formal_{name}") for name, value in (
            ("row_count", row_count), ("dist_words", dist_words), ("rows1", rows1),
            ("rows2", rows2), ("owed", owed),
            ("rows3", _div_mod(reading3 + issued + r - 1, r)[0]))}
        self._formal_row(
            formal, m, r=r, framer=framer, row_info=row_info, row_shift=row_shift,
            row_pointers=row_pointers, dist_pointers=dist_pointers, active2=active2,
            beat2=beat2, **named, queue_slots=queue_slots, pass3=pass3, **row_state)

    def _formal_record(self, formal, m: Module, *, r: int, shift_bits: int) -> _RowRecord:
        """Formal build: what the unit makes of the tracked row, computed from the property
        module's record (:attr:`FormalBuild.row`) with the unit's own blocks, combinational
        (:class:`_RowRecord`)."""
        p, e, n = self._p, self._exp_bitwidth, self._n
        fb, db = self._floored_bits, self._distance_bits
        width = r * p  # the row's lanes, padded to whole beats

        def comb(name: str, block):
            m.submodules[f"formal_{name}"] = block
            return block

        # The row as the framer gives it (absent lanes -2**VB), floored; its maximum, its
        # distances (saturated on absent lanes), its t; each lane's output.
        absent = []
        fitted = []
        for k in range(width):
            gone = Const(1, 1) if k >= n else (
                formal.row_mask[k] if formal.row_mask is not None else Const(0, 1))
            absent.append(gone)
            value = formal.row[k] if k < n else Const(0, signed(self._value_bits + 1))
            fitted.append(Mux(gone, Const(-(1 << self._value_bits),
                                          signed(self._value_bits + 1)), value))
        floor = comb("floor", FloorInput(n=width, value_bits=self._value_bits,
                                         frac_bits=self._frac_bits))
        m.d.comb += floor.x.eq(lanes(fitted, self._value_bits + 1))
        floored = [floor.floored[k] for k in range(width)]

        def maximum(count: int, name: str) -> Value:
            if count == 1:
                return floored[0]
            tree = comb(name, MaxTree(n=count, width=fb))
            m.d.comb += tree.values.eq(lanes(floored[:count], fb))
            return tree.maximum

        def beat_maximum(b: int) -> Value:
            tree = comb(f"beat_max{b}", MaxTree(n=p, width=fb))
            m.d.comb += tree.values.eq(lanes(floored[b * p:(b + 1) * p], fb))
            return tree.maximum

        row_max = maximum(width, "max")
        distance = comb("distance", Distance(n=width, width=fb, exp_bitwidth=e))
        m.d.comb += [distance.maximum.eq(row_max), distance.values.eq(lanes(floored, fb))]
        saturated = [wire(m, distance.distance[k] | absent[k].replicate(db),
                          name=f"formal_distance{k}") for k in range(width)]
        decoder = comb("shift_exp", ShiftExp(n=width, exp_bitwidth=e, distance_bits=db))
        m.d.comb += decoder.distance.eq(lanes(saturated, db))
        terms = [Value.cast(decoder.term[k]) for k in range(width)]
        total_bits = n.bit_length() + 2 * e
        # The sums of the row's terms: of its first b beats (pass 2's accumulator), and of
        # beat b alone (its beat sum).
        sums = [wire(m, Value.cast(sum(terms[:b * p], Const(0, 1)))[:total_bits],
                     name=f"formal_sum{b}") for b in range(r + 1)]
        beat_sums = [Value.cast(sum(terms[b * p:(b + 1) * p])) for b in range(r)]
        total = sums[r]
        cap = self._buffer_bitwidth - 1
        clamped = total
        if total_bits > cap:
            clamped = Mux(total[cap:].any(), (1 << cap) - 1, total[:cap])
        clamped = clamped[:sum_bits(n, e, self._buffer_bitwidth)]
        round_log2 = comb("round_log2", RoundLog2(
            n=n, exp_bitwidth=e, buffer_bitwidth=self._buffer_bitwidth,
            round_log2=self._round_log2))
        m.d.comb += round_log2.total.eq(clamped)
        t = round_log2.shift
        output = comb("output_shift", OutputShift(n=width, exp_bitwidth=e, distance_bits=db,
                                                  shift_bits=shift_bits))
        m.d.comb += [output.distance.eq(lanes(saturated, db)), output.shift.eq(t)]
        return _RowRecord(fitted=fitted, absent=absent, floored=floored, maximum=maximum,
                          beat_maximum=beat_maximum, row_max=row_max, saturated=saturated,
                          sums=sums, beat_sums=beat_sums, clamped=clamped, t=t,
                          outputs=[output.output[k] for k in range(width)])

    def _formal_row(self, formal, m: Module, *, r: int, framer, row_info: _RowFifo,
                    row_shift: _RowFifo, row_count: Value, row_pointers, dist_words: Value,
                    dist_pointers, active2: Value, beat2: Value, rows1: Value, rows2: Value,
                    owed: Value, rows3: Value, queue_slots, pass3: dict, filling: Value,
                    pass1: dict[str, Any], row_memories: list[Memory],
                    dist_memories: list[Memory], dist_parts: list[tuple[int, int]],
                    shift_bits: int, pass2: dict[str, Any]) -> None:
        """Formal build: what every place that holds part of the tracked row holds of it,
        from what the unit makes of the row (:meth:`_formal_record`): pass 1's stages (the
        framer's lanes, the beat's maximum) and running maximum, the row buffer, the maximum
        FIFO, pass 2's row maximum, each stage of pass 2 (words, distances, beat sums, the
        accumulator, the row's sum, clamped, t), the distance buffer, the ``t`` FIFO, pass
        3's row, each stage of pass 3 (distances, t, the output shift's results, the result
        register) and (``"fifo"``) the output queue's beats (``queue_slots``). Only the
        stages inside a block (the max tree, Distance, the adder tree, RoundLog2, the output
        shift) state nothing (``unstated``: the longest run of them).

        Rows by position (0 the oldest): ``rows3`` rows have beats owed in pass 3 and the
        output queue (pass 3's row the newest of them), then the rows of ``rows2`` (the
        ``t`` FIFO, then pass 2's stages), pass 2's row, the rows of the maximum FIFO and
        pass 1's stages, the framer's row.
        """
        p, e = self._p, self._exp_bitwidth
        fb, db = self._floored_bits, self._distance_bits
        position = formal.position
        row = self._formal_record(formal, m, r=r, shift_bits=shift_bits)

        def beat_word(values: list[Value], bits: int, b: int, lo: int, hi: int) -> Value:
            return Cat(*(Value.cast(values[b * p + j])[:bits] for j in range(lo, hi)))

        def held(pointers, count: Value, base: Value, front: Value, memories, words) -> None:
            """The beats of the tracked row in a circular buffer (``pointers``: its write and
            read pointers and depth) of ``count`` beats from its read pointer, the first
            ``front`` of them past the start of the row at position ``base``: each word is
            ``words(b, k)``, beat ``b`` in memory ``k``."""
            _, read, depth = pointers
            rows_before = wire(m, position - base, name="formal_rows_before")
            for b in range(r):
                offset = wire(m, rows_before * r + b - front, name="formal_offset")
                here = (rows_before >= 0) & (offset >= 0) & (offset < count)
                address = _wrapped(read, offset.as_unsigned()[:len(read)], depth)
                holds = []
                for k, memory in enumerate(memories):
                    port = memory.read_port(domain="comb")
                    m.d.comb += port.addr.eq(address)
                    holds.append(port.data == words(b, k))
                formal.partial(m, position, [~here | Cat(*holds).all()], unstated=unstated)

        def entries(fifo: _RowFifo, base: Value, value: Value) -> None:
            """The entries of a FIFO of one entry per row, the oldest not taken at position
            ``base``: the row's ``value``, not malformed."""
            entry = position - base
            m.d.comb += fifo.formal_offset.eq((entry + fifo.formal_taken)
                                              .as_unsigned()[:len(fifo.formal_offset)])
            formal.partial(m, position, [
                (entry < 0) | (entry + fifo.formal_taken >= fifo.formal_count)
                | (fifo.formal_entry == Cat(value, Const(0, 1)))], unstated=unstated)

        # The longest a beat of a row goes unstated: the stages inside the blocks of pass 1
        # (the beat's max tree), pass 2 (Distance, the beat's adder tree, RoundLog2) and pass
        # 3 (the output shift).
        valids1, flags1 = pass1["valids"], pass1["flags"]
        run = longest = 0
        for held_ in pass2["held"] + pass2["summed"] + pass3["held"]:
            run = run + 1 if held_.keys() == {"user"} else 0
            longest = max(longest, run)
        unstated = max(longest, len(valids1) - int(self._stage_registers))
        groups = self._lane_groups
        base2 = rows3  # the oldest row of rows2
        base1 = wire(m, rows3 + rows2 + active2, name="formal_base1")  # the oldest row of
        # pass 1's stages and the maximum FIFO
        # (a) Pass 1, as the streaming argmax's pass: the beat numbers along it; the framer's
        # stage holds its beat's lanes (absent ones replaced), the stage the running maximum
        # takes in next its beat's maximum; the running maximum of an open row is that of
        # its beats taken in so far, and in the cycle after its last (``done``) the row's;
        # the framer's row is not filled.
        number = Signal(range(r), name="formal_number1")  # of the framer's beat
        with m.If(framer.valid):
            m.d.sync += number.eq(Mux(framer.last, 0, number + 1))
        numbers = delay_stages(m, number, len(valids1), name="formal_number1")
        stages = [(framer.valid, numbers[0], framer.first, framer.last, framer.malformed)]
        stages += zip(valids1, numbers[1:], flags1["first1"], flags1["last1"],
                      flags1["malformed1"], strict=True)
        absorbed, absorbed_last = absorbed_beats(formal, m, framer,
                                                 [stage[:4] for stage in stages])

        position1 = wire(m, base1 + row_info.formal_count - row_info.formal_taken,
                         name="formal_rows_maxed")
        formal.partial(m, position1, [~pass1["done"] | ((pass1["running"] == row.row_max)
                                                        & ~pass1["malformed"])])
        position1 = wire(m, position1 + pass1["done"], name="formal_row_open")
        opened = [(absorbed != a) | (pass1["running"] == row.maximum((a + 1) * p, f"max_b{a}"))
                  for a in range(r - 1)]
        formal.partial(m, position1, [absorbed_last | hold for hold in opened])
        for k in reversed(range(len(stages))):
            valid, number, _, last, malformed = stages[k]
            holds = [~malformed, last == (number == r - 1)]
            for b in range(r):
                same = []
                if k == 0:
                    same += [framer.lanes[j] == row.fitted[b * p + j] for j in range(p)]
                    same.append(framer.absent == Cat(*row.absent[b * p:(b + 1) * p]))
                if k == len(stages) - 1:
                    same.append(pass1["beat_max"] == row.beat_maximum(b))
                holds.append((number != b) | Cat(*same).all())
            formal.partial(m, position1, [~valid | hold for hold in holds])
            position1 = wire(m, position1 + (valid & last), name="formal_rows_maxed")
        formal.partial(m, wire(m, base1 + rows1, name="formal_framer_row"), [~filling])
        # (b) The row buffer: each beat's floored lanes and absent bits.
        held(row_pointers, row_count, rows3 + rows2, Mux(active2, beat2, 0), row_memories,
             lambda b, k: Cat(beat_word(row.floored, fb, b, *groups[k]),
                              beat_word(row.absent, 1, b, *groups[k])))
        # (c) The maximum FIFO: the row's maximum, not malformed.
        entries(row_info, base1, row.row_max)
        # (d) The distance buffer: each beat's distances, saturated.
        active3, beat3 = pass3["active3"], pass3["beat3"]
        held(dist_pointers, dist_words, rows3 - active3, Mux(active3, beat3, 0),
             dist_memories, lambda b, k: beat_word(row.saturated, db, b, *dist_parts[k]))
        # (e) The t FIFO: the row's t, not malformed.
        entries(row_shift, base2, row.t)
        # (f) Pass 3's row (while it reads one): its t, not malformed.
        formal.partial(m, rows3 - 1, [~active3 | ((shift3 == row.t) & ~pass3["user3"])
                                      for shift3 in pass3["shift3s"]], unstated=unstated)
        # (g) Pass 2: its row's maximum, and what each of its stages holds of a beat.
        formal.partial(m, rows3 + rows2, [~active2 | ((pass2["maximum"] == row.row_max)
                                                      & ~pass2["user"])], unstated=unstated)
        expected = {
            "words": lambda b: Cat(*(Cat(beat_word(row.floored, fb, b, lo, hi),
                                         beat_word(row.absent, 1, b, lo, hi))
                                     for lo, hi in groups)),
            "word": lambda b: Cat(*(beat_word(row.floored, fb, b, lo, hi) for lo, hi in groups),
                                  *(beat_word(row.absent, 1, b, lo, hi) for lo, hi in groups)),
            "max": lambda b: row.row_max, "user": lambda b: Const(0, 1),
            "distances": lambda b: beat_word(row.saturated, db, b, 0, p),
            "beat_sum": lambda b: row.beat_sums[b], "total": lambda b: row.sums[r],
            "clamped": lambda b: row.clamped,
            "shift": lambda b: row.t}

        def stage_holds(held: dict[str, Value], number: Value | None) -> list[Value]:
            """``held``'s registers (by kind) equal to what the tracked row gives them, for
            the beat ``number`` (None: a row's sum)."""
            holds = []
            for kind, value in held.items():
                value = Value.cast(value).as_unsigned()
                same = [value == Value.cast(expected[kind](b)).as_unsigned()[:len(value)]
                        for b in (range(r) if number is not None else [0])]
                holds.append(same[0] if number is None else
                             Cat(*((number != b) | same_ for b, same_ in enumerate(same))).all())
            return holds

        # The beat numbers along pass 2, which reads a row's beats one per clock: each
        # stage's beat is the one before the next stage's (or pass 2's), up to the row's last.
        valids, lasts = pass2["valids"], pass2["lasts"]
        numbers = delay_stages(m, beat2, len(valids), name="formal_beat2")[1:]
        invariants = []
        newer = (active2, beat2)
        for valid, last, number in zip(valids, lasts, numbers, strict=True):
            invariants += [~valid | (last == (number == r - 1)),
                           ~valid | last | (newer[0] & (newer[1] == number + 1)),
                           ~newer[0] | (newer[1] == 0) | (valid & (number == newer[1] - 1))]
            newer = (valid, number)
        formal.check(m, invariants)
        # Rows by position: the rows summed (row_ends2, oldest last) ahead of pass 2's stages.
        ends, summed = pass2["ends"], pass2["summed"]
        ahead = wire(m, rows3 + row_shift.formal_count - row_shift.formal_taken,
                     name="formal_rows_summed")
        for end, held in reversed(list(zip(ends, summed, strict=True))):
            formal.partial(m, ahead, [~end | hold for hold in stage_holds(held, None)],
                           unstated=unstated)
            ahead = wire(m, ahead + end, name="formal_rows_summed")
        for k in reversed(range(len(valids))):
            valid, last, number, held = valids[k], lasts[k], numbers[k], pass2["held"][k]
            holds = stage_holds(held, number)
            if "beat_sum" in held:  # the accumulator beside the beat it adds next
                holds.append(Cat(*((number != b) | (pass2["carried"] == row.sums[b])
                                   for b in range(r))).all())
            formal.partial(m, ahead, [~valid | hold for hold in holds], unstated=unstated)
            ahead = wire(m, ahead + (valid & last), name="formal_rows_summed")
        # The output queue (its bank 0: group 0's lanes and the flags): a beat with k beats
        # ahead of it is beat k + (-owed mod R) of the owed beats, from the oldest row's
        # first: the output beat of its row, not malformed.
        lo, hi = groups[0]
        bits = (hi - lo) * (e + 1)
        outputs = [beat_word(row.outputs, e + 1, b, lo, hi)
                   for b in range(r)]
        behind = _div_mod(owed, r)[1]  # -owed mod R: the oldest owed beat's number
        out_beat = wire(m, Mux(behind == 0, 0, r - behind), name="formal_out_beat")
        ahead: Value = Const(0, 1)
        for valid, word in queue_slots:
            owner, beat = _div_mod(ahead + out_beat, r)
            want = outputs[0]
            for b in range(1, r):
                want = Mux(beat == b, outputs[b], want)
            formal.partial(m, owner, [~valid | ((word[:bits] == want) & ~word[bits + 1])],
                           unstated=unstated)
            ahead = wire(m, ahead + valid, name="formal_ahead")
        # Pass 3's stages, the oldest (the result register) first: the beats owed behind the
        # queue's.
        expected.update(
            distances=lambda b: Cat(*(beat_word(row.saturated, db, b, lo, hi)
                                      for lo, hi in dist_parts)),
            outputs=lambda b: Cat(*(beat_word(row.outputs, e + 1,
                                              b, lo, hi) for lo, hi in groups)))
        for (valid, _), held in reversed(list(zip(pass3["beats"], pass3["held"], strict=True))):
            owner, beat = _div_mod(ahead + out_beat, r)
            holds = []
            for kind, values in held.items():
                value = Cat(*values) if kind in ("distances", "outputs") else None
                for b in range(r):
                    if value is not None:
                        same = value == expected[kind](b)
                    else:
                        same = Cat(*(Value.cast(v).as_unsigned()
                                     == Value.cast(expected[kind](b)).as_unsigned()
                                     for v in values)).all()
                    holds.append((beat != b) | same)
            formal.partial(m, owner, [~valid | hold for hold in holds], unstated=unstated)
            ahead = wire(m, ahead + valid, name="formal_ahead")

    @property
    def _lane_groups(self) -> list[tuple[int, int]]:
        """Lanes ``[lo, hi)`` of each group with its own copy of pass 3's control (``"fifo"``
        form; one group with ``"enable"``, whose enable reaches every register anyway)."""
        size = _GROUP_LANES if self._flow_control == "fifo" else self._p
        return [(lo, min(lo + size, self._p)) for lo in range(0, self._p, size)]

    @property
    def _dist_parts(self) -> list[list[tuple[int, int]]]:
        """Per lane group, the lanes ``[lo, hi)`` of each of its distance buffer memories:
        two halves in the ``"fifo"`` form while the buffer is LUT RAM either way (at most
        :data:`_LUT_RAM_WORDS` words; one lane: one memory), else the group (a half-width
        memory would go to LUT RAM where the group's goes to block RAM)."""
        split = self._flow_control == "fifo" and self.buffer_depths[1] <= _LUT_RAM_WORDS
        return [[(lo, (lo + hi) // 2), ((lo + hi) // 2, hi)] if split and hi - lo > 1
                else [(lo, hi)] for lo, hi in self._lane_groups]

    def _output_pass(self, m: Module, *, row_shift, dist_reads, dist_depth: int,
                     shift_bits: int, invariants: list[Value] | None = None,
                     pass3: dict[str, Any] | None = None):
        """Pass 3, in its flow-control form; returns the signal that frees a distance word.

        ``"enable"``: the pass (buffer read port, output shift, output register) advances
        under ``ce = o.ready | ~o.valid``. ``"fifo"``: it runs freely, reads a beat only while
        the output queue has a credit for its result, and the queue is ``o``: ``o.ready``
        then reaches only the queue's output slice, not every register of the pass.

        In the ``"fifo"`` form each lane group has its own copy of the pass's control (credit,
        row state, beat counter, read pointers, valid bits) and its own bank of the output
        queue: each copy's next value comes from its own state, so synthesis keeps them
        apart, and no control register fans out to the whole beat. The copies agree in every
        cycle (formal build: ``invariants``, when given, gains that, and each copy's beat
        counter and read pointers' invariants; ``pass3`` gains the registers that say what the
        pass holds).
        """
        r, e, s = self._beats, self._exp_bitwidth, self._stage_registers
        groups = self._lane_groups
        fifo = self._flow_control == "fifo"
        if fifo:
            body = m
            advances = [Signal(name=f"credit_g{g}") for g in range(len(groups))]
        else:
            advance = Signal(name="ce")
            m.d.comb += advance.eq(self.o.ready | ~self.o.valid)
            body = Module()
            m.submodules.output_pass = EnableInserter(advance)(body)
            advances = [advance]
        user3 = Signal(name="user3", reset_less=True)
        issues, last3s, shifts = [], [], []
        controls: list[list[Value]] = []  # per group: its copies of the pass's control
        read_pointers: list[Signal] = []
        for g, (reads, advance) in enumerate(zip(dist_reads, advances, strict=True)):
            suffix = f"_g{g}" if len(groups) > 1 else ""
            active3 = Signal(name=f"active3{suffix}")
            beat3 = Signal(range(r), name=f"beat3{suffix}")
            at_end3 = Signal(name=f"at_end3{suffix}")  # beat3 == r - 1, beside it
            shift3 = Signal(signed(shift_bits), name=f"shift3{suffix}", reset_less=True)
            issue3 = Signal(name=f"issue3{suffix}")  # a beat read from the buffer this cycle
            m.d.comb += issue3.eq(active3 & advance)
            decide3 = ~active3 | at_end3 & (issue3 if fifo else 1)
            start3 = wire(m, decide3 & row_shift.r_rdy, name=f"start3{suffix}")
            # The beat counter wraps at the row's end by itself (it is 0 between rows): only
            # the issue enables it, the row decision does not reach it.
            issued3 = issue3 if fifo else active3
            for k, read in enumerate(reads):  # a read pointer per memory
                dist_rp = Signal(range(dist_depth),
                                 name=f"dist_rp{suffix}" + (f"_{k}" if len(reads) > 1 else ""))
                m.d.comb += [read.addr.eq(dist_rp), read.en.eq(1 if fifo else advance)]
                _advance(body, dist_rp, dist_depth, issued3, invariants)
                read_pointers.append(dist_rp)
            with body.If(issued3):
                body.d.sync += [beat3.eq(Mux(at_end3, 0, beat3 + 1)), at_end3.eq(beat3 == r - 2)]
            with body.If(decide3):
                body.d.sync += active3.eq(start3)
            with body.If(start3):
                body.d.sync += shift3.eq(row_shift.r_data[:shift_bits])
            if g == 0:
                m.d.comb += row_shift.r_en.eq(start3 & (1 if fifo else advance))
                with body.If(start3):
                    body.d.sync += user3.eq(row_shift.r_data[-1])
            if invariants is not None:
                invariants += [beat3 < r, at_end3 == (beat3 == r - 1)]
                controls.append([active3, beat3, at_end3] + ([advance] if fifo else []))
            issues.append(issue3)
            last3s.append(at_end3)
            shifts.append(shift3)

        # A beat read from the distance buffer arrives one cycle after its address and is
        # registered before any logic: a LUT RAM's read is asynchronous, and its delay
        # (about 4 ns on ECP5) would otherwise add to the output shift's.
        read_cycles = 2
        beat_lasts: list[Value] = []  # the last bit of each stage after the read (formal)
        last3 = _last(delay_stages(body, last3s[0], read_cycles, name="last3"), beat_lasts)
        users3 = delay_stages(body, user3, read_cycles, name="user3")
        user3d = users3[-1]
        # An output shift per lane group, each from its group's copy of t. (Formal build:
        # what each stage of the pass holds, by kind: the distances read, then registered,
        # t beside them, the output shift's results, the result register.)
        results = []
        held3: list[dict[str, list[Value]]] = [
            {"distances": [], "shift": [], "user": [user]} for user in users3[1:]]
        for g, ((lo, hi), reads, shift3) in enumerate(zip(groups, dist_reads, shifts,
                                                          strict=True)):
            output_shift = OutputShift(
                n=hi - lo, exp_bitwidth=e, distance_bits=self._distance_bits,
                shift_bits=shift_bits, register_inside=s)
            body.submodules[f"output_shift{g}" if len(groups) > 1 else "output_shift"] = \
                output_shift
            words = [register(body, read.data, name=f"dist_word{g}_{k}")
                     for k, read in enumerate(reads)]
            shifts3 = delay_stages(body, shift3, read_cycles, name=shift3.name)
            body.d.comb += [output_shift.distance.eq(Cat(*words)),
                            output_shift.shift.eq(shifts3[-1])]
            for held, distances, shift in zip(held3, ([read.data for read in reads], words),
                                              shifts3[1:], strict=True):
                held["distances"] += distances
                held["shift"].append(shift)
            results.append(output_shift.output.as_value())
        cycles = output_shift.latency + 1  # the output shift and the result register
        out_stages: list[list[Value]] = [[] for _ in issues]
        out_valids = [valid_delay(body, issue, read_cycles + cycles, name=f"out_valid_g{g}",
                                  stages=out_stages[g])
                      for g, issue in enumerate(issues)]
        if invariants is not None:
            invariants += [pointer == read_pointers[0] for pointer in read_pointers[1:]]
            invariants += [copy == first
                           for control, stages in zip(controls[1:], out_stages[1:], strict=True)
                           for copy, first in zip(control + stages, controls[0] + out_stages[0],
                                                  strict=True)]
        out_last = _last(delay_stages(body, last3, cycles, name="out_last"), beat_lasts)
        out_users = delay_stages(body, user3d, cycles, name="out_user")
        out_user = out_users[-1]
        held3 += [{"user": [user]} for user in out_users[1:]]  # inside the output shift
        held3[-2]["outputs"] = results  # the output shift's, then
        out_data = register(body, Cat(*results), name="result")
        held3[-1]["outputs"] = [out_data]  # the result register's
        if pass3 is not None:
            pass3.update(shift3s=shifts, user3=user3, held=held3)
            pass3.update(read_pointer=read_pointers[0], active3=controls[0][0],
                         beat3=controls[0][1], beats=list(zip(out_stages[0], beat_lasts,
                                                              strict=True)))
        if not fifo:
            m.d.comb += [self.o.valid.eq(out_valids[0]),
                         self.o.payload.eq(Cat(out_data, out_last, out_user))]
            return issues[0]

        # The output queue holds every result in flight: a credit per entry, taken when a beat
        # is read from the buffer, returned when its result moves from the queue's memory into
        # its output slice (o.ready reaches only that slice). A bank per lane group, each
        # written from its group's valid bit; bank 0's flags stand for all.
        depth = self._output_fifo_depth
        width = self._exp_bitwidth + 1
        widths = [(hi - lo) * width for lo, hi in groups]
        widths[0] += 2  # last, user
        m.submodules.output_queue = queue = OutputQueue(widths=widths, depth=depth)
        words = [out_data[lo * width:hi * width] for lo, hi in groups]
        words[0] = Cat(words[0], out_last, out_user)
        m.d.comb += [queue.w_en.eq(Cat(*out_valids)), queue.w_data.eq(Cat(*words))]
        lanes_data = []
        low = 0
        for g, (lo, hi) in enumerate(groups):
            lanes_data.append(queue.o.payload[low:low + (hi - lo) * width])
            low += widths[g]
        flags = queue.o.payload[len(lanes_data[0]):widths[0]]  # last, user
        m.d.comb += [self.o.valid.eq(queue.o.valid), queue.o.ready.eq(self.o.ready),
                     self.o.payload.eq(Cat(*lanes_data, flags))]
        in_flight = Signal(range(depth + 1), name="in_flight")
        m.d.sync += in_flight.eq(_count_next(in_flight, issues[0], queue.popped, 1))
        m.d.sync += [credit.eq(_next_at_most(in_flight, issue, queue.popped, 1, depth - 1))
                     for credit, issue in zip(advances, issues, strict=True)]
        if pass3 is not None:
            pass3.update(queue=queue, in_flight=in_flight, credit=advances[0], depth=depth,
                         last_bit=widths[0] - 2)
        return issues[0]


def _last(stages: list[Value], keep: list[Value]) -> Value:
    """The last of ``stages`` (``delay_stages``), each but the first appended to ``keep``."""
    keep += stages[1:]
    return stages[-1]


def wire_signed(m: Module, value, width: int, name: str) -> Signal:
    """A named combinational signed signal of ``width`` bits driven by ``value``."""
    sig = Signal(signed(width), name=name)
    m.d.comb += sig.eq(value)
    return sig
