"""The streaming TopK: a row of N elements as ceil(N / P) beats of P lanes, one result per row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amaranth.hdl import (
    Cat,
    Const,
    Module,
    Mux,
    Shape,
    Signal,
    Value,
    signed,
    unsigned,
)
from amaranth.lib import data, stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int
from shiftmax.units import TOPK

from .formal import add_buffered_fifo, formal_build
from .framing import (
    RowFramer,
    StreamingUnit,
    absorbed_beats,
    beats_per_row,
    delay_stages,
    output_fifo_invariants,
    row_ends,
    stall_body,
    streaming_input_layout,
    valid_delay,
)
from .pipeline import PipelinedUnit, ceil_log2, fit, register, wire
from .topk import check_topk_params, topk_output_layout
from .topk_tree import (
    Entry,
    TopKTree,
    key_greater,
    key_of,
    register_entry,
    topk_tree_latency,
    value_of_key,
)

__all__ = ["StreamingTopK"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = TOPK.defaults()


class StreamingTopK(StreamingUnit, PipelinedUnit, wiring.Component):
    """top-K of rows that stream in as beats of P lanes; one beat (K indices, values) per row.

    Bit-exact with ``shiftmax.golden.topk(x, k, mask=...)`` on the row the contract's framing
    forms (``streaming.md``): the K largest, largest first, the lower index first among equal
    values; masked elements rank below every present one and among themselves by index.
    The elements an early ``tlast`` left out count as masked (their value reads
    ``-2**value_bits``); the row is flagged, like a row with fewer than K present elements.

    Architecture (one beat per clock, rows back to back):

    1. :class:`~shiftmax.hw.framing.RowFramer` with ``fill``: beat counter, ``tlast``
       framing, absent lanes (mask, lanes past N, the beats an early ``tlast`` left out, which
       it emits itself), so every row is exactly R beats. Absent lanes hold ``-2**VB``;
       without a mask the key is the lane itself (an absent lane then loses every tie by
       index, as a masked one would), with a mask the present bit goes on top.
    2. The beat's selection: a :class:`TopKTree` over its P lanes keeps the beat's best
       ``L = min(K, P)``, sorted (pipelined by ``register_every``; with ``stage_registers`` a
       register inside each of its node levels, between compares and multiplexers, and one
       after the tree). Lane ``j`` of beat ``b`` is element ``b*P + j``.
    3. The running top-K, a chain of K cells, one register stage each (three with
       ``stage_registers``, see :meth:`_cell`): cell ``c`` holds the ``c``-th largest
       element of the row so far. A beat's sorted list enters cell 0; a cell keeps the list's
       head when it outranks the held element and passes on the rest with the held element
       inserted in order, truncated to what the later cells can still use. An entry that an
       earlier cell let go in this beat outranks the held one whatever the keys (the chain is
       sorted); a new element must be strictly greater (the held one is older, lower in
       index). The only loop in a cell is its held element against the incoming head: one
       compare into the held registers' clock enable, or with ``stage_registers`` a choice
       between two compares made a cycle early. On a row's first beat a cell takes the head
       whatever it holds and passes an empty slot in place of its stale element (empty ranks
       below everything; a flag beside the key, not a key bit). The results of the cells
       travel with the row's last beat to the output.

    Flow control ``"enable"``: the whole pass runs under one clock enable
    ``ce = o.ready | ~o.valid``; it freezes while a result waits, and ``i.ready`` falls with
    it. ``"fifo"``: the pass runs freely (no enable net) and its results go into an output
    FIFO with a credit per entry; an input beat is taken only while a credit is left, so
    ``o.ready`` reaches only the FIFO and the credit counter.

    Number format: input lane ``j`` of beat ``b`` is element ``b*P + j``, two's complement,
    ``value_bits + 1`` bits. Output ``data``: :func:`~shiftmax.hw.topk.topk_output_layout`, K
    indices of ``max(1, ceil(log2 n))`` bits (index 0 the largest), then for index-value the K
    values as they came in.

    Parameters
    ----------
    n : int
        Elements per row, at least 2.
    value_bits : int
        Magnitude bits per element, sign not counted (1 to 31).
    k : int
        Elements selected, 1 to ``n``.
    lanes_per_beat : int
        ``P``, 1 to ``n - 1`` (``n`` is the one-beat unit,
        :class:`~shiftmax.hw.topk.TopK`).
    output : {"index", "index-value"}
        The K indices, or the K indices then the K values (default ``"index"``).
    register_every : int
        A pipeline register after every K levels of the beat's tree (default 2).
    stage_registers : bool
        A register inside each merge of the beat's tree (between compares and selection), one
        between the tree and the chain of cells, and two inside each cell (the head compared
        a cycle early; compares and outgoing selection apart) (default True).
    flow_control : {"enable", "fifo"}
        See above (None, the default: ``"fifo"``, the registry's ``DEFAULT_FLOW_CONTROL``);
        ``"skid"`` is refused.
    mask : bool
        A per-lane mask input (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout(data=ArrayLayout(signed(VB+1), P), [mask=P,] last=1)))
    o : Out(stream.Signature(StructLayout(data=topk_output_layout(...), last=1, user=1)))
        ``last`` is 1 on every beat; ``user`` flags a malformed row or one with fewer than K
        present elements.

    Latency
    -------
    ``1 + T + stage_registers * (1 + 2K) + K`` with ``T`` the latency of the beat's
    :class:`TopKTree` over P lanes (see it), plus 2 for ``"fifo"``: edges from the handshake
    of a row's last input beat to the handshake of its output beat, ``o.ready`` high.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value.
    """

    unit_name = "topk"

    def __init__(self, *, n: int, value_bits: int, k: int, lanes_per_beat: int,
                 output: str = _DEFAULTS["output"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 flow_control: str | None = None, mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 2)
        if lanes_per_beat is None:
            raise ValueError(f"lanes_per_beat must be given (1 to n - 1 = {self._n - 1}) for "
                             f"the streaming form, not None")
        self._p = check_int("lanes_per_beat", lanes_per_beat, 1, self._n - 1)
        (self._value_bits, self._k, self._output, self._register_every,
         self._stage_registers, self._flow_control, self._mask) = check_topk_params(
            n=self._n, value_bits=value_bits, k=k, output=output,
            register_every=register_every, stage_registers=stage_registers,
            flow_control=flow_control, mask=mask)
        if self._flow_control == "skid":
            raise ValueError("flow_control must be 'enable' or 'fifo' for the streaming TopK, "
                             "not 'skid'")
        self._beats = beats_per_row(self._n, self._p)
        in_layout = streaming_input_layout(lanes_per_beat=self._p, value_bits=self._value_bits,
                                           mask=self._mask)
        out_layout = data.StructLayout({
            "data": topk_output_layout(n=self._n, value_bits=self._value_bits, k=self._k,
                                       output=self._output),
            "last": unsigned(1), "user": unsigned(1)})
        super().__init__({"i": In(stream.Signature(in_layout)),
                          "o": Out(stream.Signature(out_layout))})

    @property
    def k(self) -> int:
        return self._k

    @property
    def output(self) -> str:
        return self._output

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def memory_bits(self) -> int:
        """Bits of the ``"fifo"`` form's output FIFO (0 for ``"enable"``)."""
        if self._flow_control != "fifo":
            return 0
        return self._fifo_depth * Shape.cast(self.o.payload.shape()).width

    @property
    def latency(self) -> int:
        return self._pass_latency + 2 * int(self._flow_control == "fifo")

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "k": self._k,
                "output": self._output, "register_every": self._register_every,
                "stage_registers": self._stage_registers, "flow_control": self._flow_control,
                "lanes_per_beat": self._p, "mask": self._mask}

    @property
    def _carries_value(self) -> bool:
        """Masked elements' values travel beside their keys (which do not hold them)."""
        return self._mask and self._output == "index-value"

    def elaborate(self, platform) -> Module:
        m = Module()
        fifo = self._flow_control == "fifo"
        # Free-running with fifo (the framer emits a beat only while there is a credit).
        body, space = stall_body(m, self.o, fifo)
        p, width = self._p, self._value_bits + 1
        absent_value = -(1 << self._value_bits)

        # 1. Framing. The input is admitted here rather than through the framer's space, which
        # would reach the absent-lane multiplexers of every lane through its filler beats. A
        # filler beat needs no admission: it belongs to the row whose early tlast was
        # admitted (with the credit for its result), and the framer takes nothing meanwhile.
        body.submodules.framer = framer = RowFramer(
            n=self._n, lanes_per_beat=p, value_bits=self._value_bits, mask=self._mask,
            fill=True, absent_value=absent_value)
        m.d.comb += [framer.i.payload.eq(self.i.payload),
                     framer.i.valid.eq(self.i.valid & space),
                     self.i.ready.eq(framer.i.ready & space), framer.space.eq(1)]
        raw = None
        if self._carries_value:
            # The framer replaces absent lanes: keep the lanes as they came (an emitted
            # filler beat, which takes no input, reads the absent value).
            taken = self.i.valid & self.i.ready
            raw = Signal(data.ArrayLayout(unsigned(width), p), name="raw_lanes")
            body.d.sync += raw.eq(Mux(taken, self.i.payload.data.as_value(),
                                      Cat(*[Const(absent_value, width)] * p)))
        number_bits = max(1, ceil_log2(self._beats))
        number = Signal(number_bits, name="number")  # beat number of the framer's beat
        with body.If(framer.valid):
            body.d.sync += number.eq(Mux(framer.last, 0, number + 1))

        # 2. The beat's best L, sorted; the beat's flags travel beside it.
        length = min(self._k, p)
        # Without a mask the key is the lane itself: absent lanes (past N, or left out by an
        # early tlast) hold -2**VB and come after every element of the row on a tie, lower in
        # index, exactly as if masked. With a mask, the present bit goes on top.
        key_shape = unsigned(width + 1) if self._mask else signed(width)
        body.submodules.tree = tree = TopKTree(
            n=p, k=length, key_shape=key_shape, payload_width=width if raw is not None else 0,
            register_every=self._register_every, split=self._stage_registers)
        for j in range(p):
            # An absent lane already holds -2**VB, whose offset value is 0: no gating needed.
            present = ~framer.absent[j] if self._mask else None
            body.d.comb += tree.keys[j].eq(key_of(framer.lanes[j], present=present, gate=False))
            if raw is not None:
                body.d.comb += tree.payload[j].eq(raw[j])
        cycles = tree.latency + int(self._stage_registers)
        # The valid and last bits of every stage after the framer's (the rows in flight).
        valids: list[Value] = []
        valid = valid_delay(body, framer.valid, cycles, name="beat_valid", stages=valids)
        delayed = {name: delay_stages(body, value, cycles, name=name) for value, name in (
            (framer.first, "first"), (framer.last, "last"),
            (framer.malformed, "malformed"), (number, "number"))}
        first, last, malformed, number = (stages[-1] for stages in delayed.values())
        lasts = delayed["last"][1:]
        entries = []
        for e in range(length):
            key, lane = Value.cast(tree.key[e]), Value.cast(tree.index[e])
            payload = Value.cast(tree.selected[e]) if raw is not None else None
            if self._stage_registers:
                key, lane = register(body, key, name=f"beat_k{e}"), register(body, lane)
                payload = None if payload is None else register(body, payload)
            entries.append((key, lane, payload))
        def element(lane: Value) -> Value:
            if p == 1:
                return number
            if p & (p - 1) == 0:  # b * P + j is the concatenation: no adder
                return Cat(lane[:ceil_log2(p)], number)
            return number * p + lane

        index = [wire(body, fit(element(lane), self.index_bits), name=f"beat_i{e}")
                 for e, (_, lane, _) in enumerate(entries)]
        incoming = [Entry(key, index[e], payload) for e, (key, _, payload) in enumerate(entries)]

        # 3. The chain of cells.
        held: list[Entry] = []
        vacant: list[Value] = []  # each cell's flag: it holds no element
        results: list[Entry] = []
        moved = empty = [Const(0, 1)] * len(incoming)
        flags = _Flags(valid, first, last, malformed, stages=list(zip(valids, lasts, strict=True)))
        record = [] if formal_build(platform) is not None else None  # the chain's stages
        for c in range(self._k):
            incoming, moved, empty, flags, results = self._cell(
                body, c, incoming, moved, empty, flags, results, held, vacant, record)
        if not self._stage_registers:
            # The last cell's held element is final once the row's last beat has left it.
            results = results + [held[-1]]

        fields = [Cat(*(entry.index for entry in results))]
        if self._output == "index-value":
            values = [entry.payload if entry.payload is not None
                      else value_of_key(entry.key, self._value_bits) for entry in results]
            fields.append(Cat(*(Value.cast(v)[:width] for v in values)))
        # Fewer than K present: the K-th element (present ones first) is absent. Without a
        # mask only a malformed row can have absent elements.
        user = flags.malformed | ~results[-1].key[-1] if self._mask else flags.malformed
        word = Cat(*fields, Const(1, 1), user)
        # Rows past the framer: the row ends in the tree's stages and in the chain's (the
        # last of which is the enable form's output).
        passing = row_ends(flags.stages)
        formal = formal_build(platform)
        if formal is not None:
            # (valid, number, first, last, malformed) of the framer's stage and the tree's.
            entering = [(framer.valid, delayed["number"][0], framer.first, framer.last,
                         framer.malformed)]
            entering += [(valids[s], *(delayed[name][s + 1] for name in (
                "number", "first", "last", "malformed"))) for s in range(cycles)]
        if not fifo:
            m.d.comb += [self.o.valid.eq(flags.valid & flags.last),
                         self.o.payload.as_value().eq(word)]
            if formal is not None:
                if (self._stage_registers and tree.latency == 1 and not self._mask
                        and self._output == "index"):
                    # What every stage of the pass holds of the tracked row.
                    self._formal_stages(formal, body, framer, entering, tree, entries,
                                        record, held, vacant)
                formal.hold(m, framer.rows_held + passing, [])
            return m
        ahead = None
        if formal is not None:
            # The chain of an open row, the pass drained, holds the top-K of its beats so far.
            ahead = Signal(range(self._fifo_depth + 1), name="formal_rows_ahead")
            entering = [stage[:4] for stage in entering]
            drained = ~framer.valid & ~Cat(*(v for v, _ in flags.stages)).any()
            self._formal_chain(formal, body, framer, entering, drained, ahead, held, vacant)
        self._output_fifo(m, word, flags.valid & flags.last, framer, space, passing, platform,
                          ahead=ahead)
        return m

    def _formal_chain(self, formal, m: Module, framer: RowFramer,
                      entering: list[tuple[Value, ...]],
                      drained: Value, position: Value, held: list[Entry],
                      vacant: list[Value]) -> None:
        """The formal build's statements about the chain of cells (``"fifo"`` form): the beat
        numbers up to the chain (``entering``: ``(valid, number, first, last)`` of the
        framer's stage and the tree's, see :func:`~shiftmax.hw.framing.absorbed_beats`),
        and, while no beat is in the pass (``drained``), that the cells of the tracked row,
        open at ``position`` among the rows held, hold the top-K of its beats taken so far:
        cell ``c`` the ``c``-th (largest first, the lower index first among equal keys),
        vacant where the beats hold fewer elements. Of a beat in the pass it states nothing:
        the miter's induction looks back past the beats of a row in the pass
        (``unstated``)."""
        p, r = self._p, self._beats
        absorbed, absorbed_last = absorbed_beats(formal, m, framer, entering)
        width = self._value_bits + 1
        absent_value = Const(-(1 << self._value_bits), signed(width))

        def key(e: int) -> Value:
            """Element ``e``'s key in the recorded row, as the unit ranks it."""
            gone = formal.row_mask[e] if self._mask else Const(0, 1)
            lane = Mux(gone, absent_value, formal.row[e])
            return key_of(lane, present=~gone if self._mask else None, gate=False)

        holds = []
        for a in range(r - 1):  # the row is open: beats 0 .. a taken
            # Insert the elements in index order into a sorted list of K places.
            places = [(Const(0, len(held[0].key)), Const(0), Const(1, 1))] * self._k
            for e in range(min((a + 1) * p, self._n)):
                x = key(e)
                ahead = [vacant_ | key_greater(x, k_) for k_, _, vacant_ in places]
                places = [Entry(Mux(ahead[i], Mux(ahead[i - 1], places[i - 1][0], x)
                                    if i else x, places[i][0]),
                                Mux(ahead[i], Mux(ahead[i - 1], places[i - 1][1], e)
                                    if i else e, places[i][1]),
                                Mux(ahead[i], Mux(ahead[i - 1], places[i - 1][2], 0)
                                    if i else 0, places[i][2]))
                          for i in range(self._k)]
                # Named, so that the next insertion reads them rather than copies of them.
                places = [tuple(wire(m, value, name=f"formal_top{a}_{e}_{i}_{field}")
                                for value, field in zip(
                                    (entry.key, entry.index, entry.payload),
                                    ("key", "index", "vacant"), strict=True))
                          for i, entry in enumerate(places)]
            same = [(vacant[c] == v) & (v | ((held[c].key == k_) & (held[c].index == i_)))
                    for c, (k_, i_, v) in enumerate(places)]
            holds.append((absorbed != a) | Cat(*same).all())
        # The pass drains only when no beat follows within its latency: a row's beats may
        # keep it busy from the row's first beat taken to its last one's leaving.
        formal.partial(m, position, [~drained | absorbed_last | hold for hold in holds],
                       unstated=r * (self._pass_latency - 1) + 1)

    def _formal_stages(self, formal, m: Module, framer: RowFramer,
                       entering: list[tuple[Value, ...]], tree: TopKTree,
                       entries: list[tuple[Value, Value, Value | None]],
                       record: list[dict[str, Any]], held: list[Entry],
                       vacant: list[Value]) -> None:
        """The formal build's statements about every stage of the pass (``"enable"`` form,
        ``stage_registers``, a beat's tree of one register stage, no mask, indices alone):
        the pass freezes while a result waits, so a beat of the tracked row may sit in any
        stage for ever, and each stage states what it holds of that row.

        ``entering``: ``(valid, number, first, last, malformed)`` of the framer's stage and
        the tree's (the tree's outputs, then ``entries``, its registered outputs); ``record``:
        the chain's stages, three per cell (:meth:`_cell`). Of a beat ``b`` of the tracked
        row (its number travels in registers of the formal build along the chain), with
        ``S_b`` the row's elements of beats ``0 .. b`` in rank order (largest first, the
        lower index first among equal keys): the framer holds its lanes (absent ones
        replaced), the tree its best ``L``, sorted; the list entering cell ``c`` holds, in
        rank order, the elements of the beat's best ``L`` and of ``S_(b-1)[:c]`` that are
        not in ``S_b[:c]``, as many as it has slots (``moved``: from ``S_(b-1)[:c]``,
        ``empty``: no element); the let-go element of cell ``c`` is ``S_(b-1)[c]`` (none on
        a row's first beat); the results beside it are ``S_b[:c]``, then ``S_b[:c+1]`` once
        the cell took the beat in (its held element, then its output register). The row is
        well formed (no beat malformed, the last at ``R - 1``; the framer fills none of it).
        Each cell of an open row, after its beat ``a``, holds ``S_a[c]`` (vacant without
        one).
        Always: the look-ahead compare of a cell equals the compare it stands for, and its
        registered ``ahead`` bits what they were computed from.
        """
        p, r, k = self._p, self._beats, self._k
        length = min(k, p)
        bits = self.index_bits
        width = self._value_bits + 1
        count = r * p  # the row's lanes, absent ones included
        absent_value = Const(-(1 << self._value_bits), signed(width))
        lanes = [formal.row[e] if e < self._n else absent_value for e in range(count)]
        keys = [wire(m, key_of(lane, gate=False), name=f"formal_key{e}")
                for e, lane in enumerate(lanes)]
        # before[x, y]: element x ranks before element y.
        before = {(x, y): wire(m, ~key_greater(keys[y], keys[x]) if x < y
                               else key_greater(keys[x], keys[y]), name=f"formal_before{x}_{y}")
                  for x in range(count) for y in range(count) if x != y}
        rank_bits = ceil_log2(count + 1) + 1

        def ranks(members: dict[int, Value]) -> dict[int, Value]:
            """Each member's rank among the members (``members``: element -> membership)."""
            return {e: wire(m, sum((Value.cast(u) & before[x, e] for x, u in members.items()
                                    if x != e), Const(0, rank_bits)), name=f"formal_rank{e}")
                    for e in members}

        def ordered(members: dict[int, Value], slots: int, flag: dict[int, Value] | None = None,
                    base: int = 0) -> list[tuple[Value, ...]]:
            """The first ``slots`` members in rank order: ``(exists, key, index, flag)``, the
            index counted from element ``base``."""
            rank = ranks(members)
            total = sum((Value.cast(u) for u in members.values()), Const(0, rank_bits))
            out = []
            for j in range(slots):
                key, index, bit = Const(0, signed(width)), Const(0, bits), Const(0, 1)
                for e, u in members.items():
                    here = Value.cast(u) & (rank[e] == j)
                    key = Mux(here, keys[e], key)
                    index = Mux(here, Const((e - base) & ((1 << bits) - 1), bits), index)
                    if flag is not None:
                        bit = Mux(here, flag[e], bit)
                out.append(tuple(wire(m, value, name=f"formal_{name}") for value, name in (
                    (total > j, "exists"), (key, "key"), (index, "index"), (bit, "flag"))))
            return out

        def same(entry: Entry, want: tuple[Value, ...]) -> Value:
            return (entry.key == want[1]) & (entry.index == want[2])

        # Per beat b: S_b (ranks and order), the beat's best L.
        one = Const(1, 1)
        rank_s = [ranks({e: one for e in range((b + 1) * p)}) for b in range(r)]
        order_s = [ordered({e: one for e in range((b + 1) * p)}, k) for b in range(r)]
        beat_rank = [ranks({e: one for e in range(b * p, (b + 1) * p)}) for b in range(r)]
        best = [{e: beat_rank[b][e] < length for e in range(b * p, (b + 1) * p)}
                for b in range(r)]

        lists = {}

        def entering_list(b: int, c: int, slots: int) -> list[tuple[Value, ...]]:
            """The list entering cell ``c`` for beat ``b``, ``moved`` as the flag."""
            if (b, c) not in lists:
                lists[b, c] = entering_set(b, c)
            return lists[b, c][:slots]

        def entering_set(b: int, c: int) -> list[tuple[Value, ...]]:
            earlier = {e: (rank_s[b - 1][e] < c) if b and e < b * p else Const(0, 1)
                       for e in range((b + 1) * p)}
            earlier = {e: wire(m, bit, name=f"formal_earlier{e}") for e, bit in earlier.items()}
            members = {e: wire(m, (best[b].get(e, Const(0, 1)) | earlier[e])
                               & ~(rank_s[b][e] < c), name=f"formal_member{e}")
                       for e in range((b + 1) * p)}
            return ordered(members, length, earlier)

        def slot_holds(entry: Entry, moved: Value, empty: Value,
                       want: tuple[Value, ...]) -> Value:
            return Mux(want[0], ~empty & same(entry, want) & (moved == want[3]),
                       empty & ~moved)

        def results_hold(results: list[Entry], b: int) -> list[Value]:
            return [same(entry, order_s[b][i]) for i, entry in enumerate(results)
                    if i < (b + 1) * p]

        # Every stage: (valid, number, first, last, malformed, holds(b) -> list).
        stages = []
        stages.append((*entering[0], lambda b: [framer.lanes[j] == lanes[b * p + j]
                                                  for j in range(p)]))
        sorted_best = [ordered({e: one for e in range(b * p, (b + 1) * p)}, length, base=b * p)
                       for b in range(r)]
        stages.append((*entering[1], lambda b: [
            (Value.cast(tree.key[s]) == want[1])
            & (Value.cast(tree.index[s]) == want[2][:len(tree.index[s])])
            for s, want in enumerate(sorted_best[b])]))
        stages.append((*entering[2], lambda b: [
            (key == want[1]) & (lane == want[2][:len(lane)])
            for (key, lane, _), want in zip(entries, sorted_best[b], strict=True)]))
        number = entering[-1][1]
        chain_at = []  # index in stages of each cell's first stage
        for stage in record:
            flags = stage["flags"]
            number = register(m, number, name="formal_number")
            if "head_greater" in stage:
                chain_at.append(len(stages))

            def holds(b: int, stage=stage) -> list[Value]:
                c = stage["cell"]
                want = entering_list(b, c, len(stage["list"]))
                out = [slot_holds(entry, moved, empty, w) for entry, moved, empty, w in zip(
                    stage["list"], stage["moved"], stage["empty"], want, strict=True)]
                out += results_hold(stage["results"], b)
                if "stale" in stage:
                    if b and c < b * p:
                        prior = order_s[b - 1][c]
                        out.append(Mux(prior[0], stage["let_go"] & same(stage["stale"], prior),
                                       ~stage["let_go"]))
                    else:
                        out.append(~stage["let_go"])
                return out

            stages.append((flags.valid, number, flags.first, flags.last, flags.malformed,
                           holds))
        # The beat numbers along the pass, and the beats each cell took in.
        beats = [stage[:4] for stage in stages]
        absorbed_beats(formal, m, framer, beats)
        position = Const(0, 1)
        positions = []
        for valid, number, _, last, malformed, holds in reversed(stages):
            positions.append(position)
            checks = [~malformed, last == (number == r - 1)]
            checks += [(number != b) | Cat(*holds(b)).all() for b in range(r)]
            formal.partial(m, position, [~valid | check for check in checks])
            position = position + (valid & last)
        positions.reverse()
        # The framer fills no beat of the tracked row (it ends at beat R - 1).
        filling = framer.rows_held & ~(framer.valid & framer.last)
        formal.partial(m, positions[0], [~filling])
        invariants = []
        for c, at in enumerate(chain_at):
            absorbed, absorbed_last = absorbed_beats(formal, m, framer, beats[:at + 1])
            wants = []
            for a in range(r - 1):
                want = order_s[a][c] if c < len(order_s[a]) else None
                hold = (Mux(want[0], ~vacant[c] & same(held[c], want), vacant[c])
                        if want is not None else vacant[c])
                wants.append((absorbed != a) | hold)
            formal.partial(m, positions[at], [absorbed_last | want for want in wants])
            pre, after = record[3 * c], record[3 * c + 1]
            h = held[c]
            head = pre["list"][0]
            invariants.append(~pre["flags"].valid
                              | (pre["head_greater"] == key_greater(head.key, h.key)))
            stale = after["stale"]
            for j, bit in enumerate(after["ahead"]):
                entry = after["list"][j]
                invariants.append(~after["flags"].valid | (bit == (
                    ~after["let_go"] | after["moved"][j]
                    | (~after["empty"][j] & key_greater(entry.key, stale.key)))))
        formal.check(m, invariants)

    @property
    def _fifo_depth(self) -> int:
        """Entries (and credits) of the ``"fifo"`` form's output FIFO: every row from the
        framer's emission of its last beat to its result's departure, rows back to back (a
        row is R >= 2 beats), and one credit held back for the row end not yet counted."""
        return -(-(self._pass_latency + 4) // self._beats) + 3

    @property
    def _pass_latency(self) -> int:
        """Edges from a row's last beat taken to its result at the chain's end."""
        tree = topk_tree_latency(self._p, self._register_every, self._stage_registers)
        return 1 + tree + (1 + 2 * self._k) * int(self._stage_registers) + self._k

    def _output_fifo(self, m: Module, word: Value, done: Value, framer: RowFramer,
                     credit: Signal, passing: Value, platform, *,
                     ahead: Signal | None = None) -> None:
        """The ``"fifo"`` form's output: a FIFO of results with a credit per entry.

        A credit is taken when the framer emits a row's last beat and returned when a result
        leaves at ``o``. The framer's emission shows one cycle late, so a beat is taken
        only while two credits are left: rows are at least two beats apart, so at most one
        uncounted row end is ever in flight. The handshakes only select between flags
        computed from the counter. In a formal build (``passing``: the rows past the framer,
        not yet in the FIFO) it states the credit invariant
        (:func:`~shiftmax.hw.framing.output_fifo_invariants`), and that every result the
        FIFO holds has its ``last`` bit set.
        """
        depth = self._fifo_depth
        out_fifo = SyncFIFOBuffered(width=len(word), depth=depth)
        registers = add_buffered_fifo(m, "output_fifo", out_fifo, platform)
        count = Signal(range(depth + 1), name="credits", init=depth)
        leaves = Signal(name="leaves")
        ends = Signal(name="row_ends")
        m.d.comb += [out_fifo.w_en.eq(done), out_fifo.w_data.eq(word),
                     self.o.valid.eq(out_fifo.r_rdy), self.o.payload.as_value().eq(out_fifo.r_data),
                     out_fifo.r_en.eq(self.o.ready), leaves.eq(self.o.valid & self.o.ready),
                     ends.eq(framer.valid & framer.last)]
        with m.If(leaves & ~ends):
            m.d.sync += [count.eq(count + 1), credit.eq(count >= 1)]
        with m.Elif(ends & ~leaves):
            m.d.sync += [count.eq(count - 1), credit.eq(count >= 3)]
        formal = formal_build(platform)
        if formal is not None:
            offset = self.o.payload.shape()["last"].offset
            slots = []
            if ahead is not None:
                # The results the FIFO holds, oldest first (its output register, then the
                # inner FIFO's words), and the rows ahead of the pass.
                m.d.comb += ahead.eq(out_fifo.level)
                slots = [(Const(0), out_fifo.r_rdy, out_fifo.r_data)]
                slots += [(out_fifo.r_rdy + k, registers.inner_level > k, registers.word(k))
                          for k in range(depth - 1)]
            output_fifo_invariants(formal, m, registers, framer=framer, passing=passing,
                                   count=count, credit=credit,
                                   held=lambda result: result[offset], slots=slots)

    def _cell(self, m: Module, c: int, incoming: list[Entry], moved: list[Value],
              empty: list[Value], flags: _Flags, results: list[Entry], held: list[Entry],
              vacant: list[Value], record: list[dict[str, Any]] | None = None):
        """Cell ``c`` of the chain; returns what its output registers pass to the next one.

        ``moved[b]`` marks an incoming entry that an earlier cell held and let go in this
        beat: it ranks before this cell's held element whatever their keys (the chain is
        sorted), while a new element must be strictly greater (the held one is older, lower
        in index). ``empty[b]`` marks a slot that holds no element (what a row's first beat
        leaves behind): it ranks below everything, and anything ranks before an empty held
        place; this flag stays out of the compare. ``results`` are the final elements of the
        earlier cells for the beat in flight. A cell's held element joins them one cycle
        after the cell took the beat (when it is final if the beat is its row's last, and
        before the next beat changes it): in the next cell, or with ``stage_registers`` in
        the cell's own second stage.

        ``record`` (a formal build's): the registers of each of the cell's stages, appended
        in order (see :meth:`_formal_stages`).

        With ``stage_registers`` a cell is three stages: the head's compares, the update and
        the other compares, the outgoing selection. The held element is either what it was
        or the previous head, both known a cycle ahead, so the head is compared with both a
        cycle early and the loop is a 2-to-1 choice between the two registered results by
        whether the cell took the previous head: no compare in the loop.
        """
        length = len(incoming)
        head = incoming[0]
        h = Entry(Signal(head.key.shape(), name=f"cell{c}_key", reset_less=True),
                  Signal(len(head.index), name=f"cell{c}_index", reset_less=True),
                  None if head.payload is None else
                  Signal(len(head.payload), name=f"cell{c}_value", reset_less=True))
        h_empty = Signal(name=f"cell{c}_empty", reset_less=True)
        if self._stage_registers:
            early = head.key
            incoming = [register_entry(m, e, f"cell{c}_pre{b}") for b, e in enumerate(incoming)]
            moved = [register(m, bit, name=f"cell{c}_pre_moved{b}") for b, bit in enumerate(moved)]
            empty = [register(m, bit, name=f"cell{c}_pre_empty{b}") for b, bit in enumerate(empty)]
            results = [register_entry(m, r, f"cell{c}_pre_res{i}") for i, r in enumerate(results)]
            flags = flags.registered(m, f"cell{c}_pre")
            head = incoming[0]
            over_held = register(m, key_greater(early, h.key), name=f"cell{c}_over_held")
            over_head = register(m, key_greater(early, head.key), name=f"cell{c}_over_head")
            took = Signal(name=f"cell{c}_took")  # the held element is the previous head
            head_greater = Mux(took, over_head, over_held)
            if record is not None:
                record.append({"flags": flags, "list": incoming, "moved": moved, "empty": empty,
                               "results": results, "head_greater": head_greater, "cell": c})
        else:
            head_greater = key_greater(head.key, h.key)
        first = flags.first
        # ahead[b]: incoming entry b ranks before the held one (always on a row's first beat,
        # when the held one is stale).
        greater = [head_greater] + [key_greater(e.key, h.key) for e in incoming[1:]]
        ahead = [wire(m, first | moved[b] | h_empty | (~empty[b] & greater[b]),
                      name=f"cell{c}_ahead{b}")
                 for b in range(length)]
        if self._stage_registers:
            m.d.sync += took.eq(flags.valid & ahead[0])
        with m.If(flags.valid & ahead[0]):
            m.d.sync += [h.key.eq(head.key), h.index.eq(head.index), h_empty.eq(empty[0])]
            if h.payload is not None:
                m.d.sync += h.payload.eq(head.payload)
        if held and not self._stage_registers:
            results = results + [held[-1]]
        held.append(h)
        vacant.append(h_empty)

        # What leaves the held place if the incoming list outranks it: the held element (it
        # exists), or on a row's first beat an empty slot in place of the stale one.
        out_length = min(length, self._k - 1 - c)
        stale = Entry(h.key, h.index, h.payload)
        stale_empty = h_empty | first
        let_go = ~stale_empty
        if self._stage_registers:
            def keep(value: Value, name: str) -> Value:
                return register(m, value, name=f"cell{c}_{name}")

            ahead = [keep(bit, f"ahead{b}_r") for b, bit in enumerate(ahead)]
            incoming = [register_entry(m, e, f"cell{c}_in{b}")
                        for b, e in enumerate(incoming[:out_length + 1])]
            moved = [keep(bit, f"moved{b}_r") for b, bit in enumerate(moved[:out_length + 1])]
            empty = [keep(bit, f"empty{b}_r") for b, bit in enumerate(empty[:out_length + 1])]
            stale, let_go = register_entry(m, stale, f"cell{c}_held"), keep(let_go, "let_go")
            stale_empty = ~let_go
            results = [register_entry(m, r, f"cell{c}_res{i}") for i, r in enumerate(results)]
            flags = flags.registered(m, f"cell{c}_a")
            length = len(incoming)
            if record is not None:
                record.append({"flags": flags, "list": incoming, "moved": moved, "empty": empty,
                               "results": [*results, h], "ahead": ahead, "stale": stale,
                               "let_go": let_go, "cell": c})
            results = results + [h]  # final now if the beat was its row's last

        # The outgoing list: the incoming one without its head if the cell took it, with the
        # held element inserted in order.
        fields = {name: [getattr(entry, name) for entry in incoming]
                  for name in ("key", "index", "payload")}
        outgoing, outgoing_moved, outgoing_empty = [], [], []
        for j in range(out_length):
            def pick(held_value, values, j=j) -> Value:
                # Slot j: entry j + 1 if it is ahead of the held one, else the held one if
                # it is ahead of entry j, else entry j.
                chosen = Mux(ahead[j], held_value, values[j])
                return chosen if j + 1 >= length else Mux(ahead[j + 1], values[j + 1], chosen)

            outgoing.append(Entry(
                register(m, pick(stale.key, fields["key"]), name=f"cell{c}_out{j}_key"),
                register(m, pick(stale.index, fields["index"]), name=f"cell{c}_out{j}_index"),
                None if h.payload is None else
                register(m, pick(stale.payload, fields["payload"]))))
            outgoing_moved.append(register(m, pick(let_go, moved), name=f"cell{c}_out{j}_moved"))
            outgoing_empty.append(register(m, pick(stale_empty, empty),
                                           name=f"cell{c}_out{j}_empty"))
        results = [register_entry(m, r, f"cell{c}_out_res{i}") for i, r in enumerate(results)]
        flags = flags.registered(m, f"cell{c}")
        if record is not None and self._stage_registers:
            record.append({"flags": flags, "list": outgoing, "moved": outgoing_moved,
                           "empty": outgoing_empty, "results": results, "cell": c + 1})
        return outgoing, outgoing_moved, outgoing_empty, flags, results


@dataclass(frozen=True)
class _Flags:
    """What travels with a beat through the chain: valid (reset), first, last, malformed."""

    valid: Value
    first: Value
    last: Value
    malformed: Value
    #: (valid, last) of every stage the beat has passed through, this one included (the
    #: rows in flight, for the formal build).
    stages: list[tuple[Value, Value]]

    def registered(self, m: Module, name: str) -> _Flags:
        valid, first, last, malformed = (
            [valid_delay(m, self.valid, 1, name=f"{name}_valid")]
            + [register(m, value, name=f"{name}_{field}") for value, field in
               ((self.first, "first"), (self.last, "last"), (self.malformed, "malformed"))])
        return _Flags(valid, first, last, malformed, [*self.stages, (valid, last)])
