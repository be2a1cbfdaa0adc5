"""A FIFO of results in flight whose output is a register slice with a registered ready.

The streaming shiftmax's output pass runs freely and reads a beat only while it holds a credit
of this queue (``docs/streaming.md``). The queue is a LUT RAM read asynchronously, then a
register slice with a skid register (verilog-axis's ``axis_register``, as ``hw/flow.py``'s
``"skid"`` form): the slice's own ready is a register, so ``o.ready`` reaches only the slice's
registers, one LUT away, and never the memory's pointers or counts. A result moves from the
memory into the slice in the cycle after it was written, as in a FIFO with an output register,
so the queue adds no latency to one.

The queue is split in banks (one per lane group of the unit), each with its own memory,
pointers, count and slice; the banks see the same writes and reads, so they agree in every
cycle, but each copy's next value is computed from the copy itself, so that synthesis does not
merge them, and no register of the queue fans out to the whole output.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .formal import formal_build
from .pipeline import ceil_log2

__all__ = ["OutputQueue", "thermometer"]


def thermometer(m: Module, name: str, length: int, *, up: Value, down: Value) -> Signal:
    """A count from 0 to ``length`` as a thermometer code (bit k: the count is above k).

    It goes up by one with ``up`` and down by one with ``down`` (both: unchanged); each bit is
    one LUT of the two flags and its neighbours, with no carry chain, and "the count is above
    k" is a register for every k.
    """
    code = Signal(length, name=name)
    with m.If(up ^ down):
        m.d.sync += code.eq(Mux(up, Cat(Const(1, 1), code[:-1]), code[1:]))
    return code


class OutputQueue(wiring.Component):
    """A FIFO of up to ``depth`` results, in banks of ``widths`` bits, with a registered ready.

    Members
    -------
    w_en : In(banks)
        Bank b's copy of the write enable (all equal); the writer never writes more than
        ``depth`` results that have not been popped (it counts ``popped``).
    w_data : In(sum(widths))
        The result, bank 0 in the lowest bits.
    popped : Out(1)
        A result moved from the memory into the slice this cycle (a credit of the writer's
        comes back): a function of registers only, never of ``o.ready``.
    o : Out(stream.Signature(sum(widths)))
        The results in order; ``o.ready`` reaches only the slice.

    The memory has ``2**ceil(log2(depth))`` words (:attr:`words`), so its pointers wrap by
    themselves.
    """

    def __init__(self, *, widths: list[int], depth: int) -> None:
        self._widths, self._depth = list(widths), depth
        width = sum(self._widths)
        super().__init__({"w_en": In(len(self._widths)), "w_data": In(width),
                          "popped": Out(1), "o": Out(stream.Signature(width))})
        #: Formal build only, bank 0 (driven by the queue): the results its memory holds,
        #: each word from the oldest on (``formal_words[k]``: the k-th oldest, meaningful
        #: below ``formal_stored``), and the slice's output and skid registers with their flags.
        first = self._widths[0]
        self.formal_stored = Signal(range(depth + 1), name="formal_stored")
        self.formal_words = [Signal(first, name=f"formal_word{k}") for k in range(depth)]
        self.formal_out = Signal(first, name="formal_out")
        self.formal_out_valid = Signal(name="formal_out_valid")
        self.formal_skid = Signal(first, name="formal_skid")
        self.formal_skid_valid = Signal(name="formal_skid_valid")

    @property
    def words(self) -> int:
        return 1 << ceil_log2(self._depth)

    def elaborate(self, platform) -> Module:
        m = Module()
        outputs, out_valids, pops = [], [], []
        banks: list[list[Value]] = []  # formal build: each bank's registers
        low = 0
        for b, width in enumerate(self._widths):
            memory = Memory(shape=width, depth=self.words, init=[])
            m.submodules[f"memory{b}"] = memory
            write, read = memory.write_port(), memory.read_port(domain="comb")
            produce = Signal(range(self.words), name=f"produce{b}")
            consume = Signal(range(self.words), name=f"consume{b}")
            written = self.w_en[b]
            m.d.comb += [write.addr.eq(produce), write.en.eq(written),
                         write.data.eq(self.w_data[low:low + width]), read.addr.eq(consume)]
            low += width
            with m.If(written):
                m.d.sync += produce.eq(produce + 1)
            # The slice (axis_register with a skid register): ``ready`` is its registered
            # s_tready; a result moves in from the memory while ``ready`` and one is waiting.
            ready = Signal(name=f"ready{b}", init=1)
            out = Signal(width, name=f"out{b}", reset_less=True)
            skid = Signal(width, name=f"skid{b}", reset_less=True)
            out_valid = Signal(name=f"out_valid{b}")
            skid_valid = Signal(name=f"skid_valid{b}")
            pop = Signal(name=f"pop{b}")
            stored = thermometer(m, f"stored{b}", self._depth, up=written, down=pop)
            waiting = stored[0]
            m.d.comb += pop.eq(ready & waiting)
            with m.If(pop):
                m.d.sync += consume.eq(consume + 1)
            m.d.sync += ready.eq(self.o.ready | ~skid_valid & (~out_valid | ~waiting))
            with m.If(ready):
                with m.If(self.o.ready | ~out_valid):
                    m.d.sync += [out_valid.eq(waiting), out.eq(read.data)]
                with m.Else():
                    m.d.sync += [skid_valid.eq(waiting), skid.eq(read.data)]
            with m.Elif(self.o.ready):
                m.d.sync += [out_valid.eq(skid_valid), skid_valid.eq(0), out.eq(skid)]
            outputs.append(out)
            out_valids.append(out_valid)
            pops.append(pop)
            banks.append([produce, consume, ready, out_valid, skid_valid, stored])
            if b == 0 and formal_build(platform) is not None:
                for k, word in enumerate(self.formal_words):
                    port = memory.read_port(domain="comb")
                    m.d.comb += [port.addr.eq((consume + k)[:len(consume)]), word.eq(port.data)]
                m.d.comb += [self.formal_stored.eq(sum(stored[k] for k in range(self._depth))),
                             self.formal_out.eq(out), self.formal_out_valid.eq(out_valid),
                             self.formal_skid.eq(skid), self.formal_skid_valid.eq(skid_valid)]
        m.d.comb += [self.o.payload.eq(Cat(*outputs)), self.o.valid.eq(out_valids[0]),
                     self.popped.eq(pops[0])]
        formal = formal_build(platform)
        if formal is not None:
            # Each count is a thermometer code; the banks agree while their writes do (the
            # writer's copies of ``w_en``, which the unit states equal).
            formal.check(m, [(stored[1:] & ~stored[:-1]) == 0
                             for *_, stored in banks if len(stored) > 1])
            # The pointers agree with the count modulo the memory's words (the writer keeps
            # the count at most ``depth``: its credits).
            formal.check(m, [(produce - consume)[:len(produce)]
                             == Value.cast(sum(stored[k] for k in range(self._depth)))
                             [:len(produce)]
                             for produce, consume, *_, stored in banks])
            # The slice (as hw/flow.py's skid form): its ready is low exactly while the skid
            # register is full, which it is only behind a full output register.
            formal.check(m, [(ready == ~skid_valid) & (~skid_valid | out_valid)
                             for _, _, ready, out_valid, skid_valid, _ in banks])
            formal.check(m, [(self.w_en != 0) == (self.w_en == (1 << len(banks)) - 1)]
                         + [register == first for bank in banks[1:]
                            for register, first in zip(bank, banks[0], strict=True)])
        return m
