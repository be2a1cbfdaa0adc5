"""A cocotb bench for row-framed AXI4-Stream units: tlast, tuser masks, malformed rows.

The streaming units (``lanes_per_beat`` P < n) take a row as R beats with ``s_axis_tlast``
and a mask on ``s_axis_tuser``, and give back R beats (shiftmax) or one beat (argmax,
top-K) with ``m_axis_tlast`` and ``m_axis_tuser``; the one-beat units with a mask take the
same bench with R = 1 and no tlast. Components, each run once per clock cycle by
:class:`RowHarness`:

- :class:`RowSource`: drives ``s_axis_tdata/tuser/tlast/tvalid`` from the beats of a list of
  source rows (:class:`~shiftmax.sim.framing.SourceRow`), with random idle gaps (random data
  on the bus while idle); a presented beat holds until it is taken. A reset abandons the row
  in progress: after it the source starts again at the next row's first beat.
- :class:`~shiftmax.sim.axis.AxisBackpressure`: drives ``m_axis_tready`` at random.
- :class:`RowMonitor`: samples every port and checks the output side of AXI4-Stream:
  ``m_axis_tvalid`` held until the beat is taken, ``m_axis_tdata/tlast/tuser`` stable while
  stalled, no X or Z while valid; and, where the unit's flow control documents it
  (:func:`~shiftmax.sim.ready_rules.row_ready_rule`), ``s_axis_tready`` on every cycle.
- :class:`RowScoreboard`: feeds each accepted beat to the framing model
  (:class:`~shiftmax.sim.framing.Framer`); each row it forms adds its expected output beats
  (:func:`~shiftmax.sim.framing.ref_row_outputs`), which must come out in order, none lost,
  duplicated or extra. A reset forgets the rows in flight and restarts the framing: nothing
  may come out after it that was not sent after it.

It measures each row's latency (clock edges from the handshake of the row's last input beat
to that of its first output beat) and the sustained rate of input and output beats. Timing
as in :mod:`shiftmax.sim.axis`: components drive after a rising edge, the monitor samples at
``ReadOnly`` what the next edge sees.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from cocotb.triggers import ReadOnly, RisingEdge

from shiftmax.sim.axis import AxisBackpressure, AxisHarness, _bit, _drive, _read
from shiftmax.sim.framing import (
    FramedRow,
    Framer,
    OutputBeat,
    RowExpectation,
    RowShape,
    SourceRow,
    beats_of_rows,
    ref_row_outputs,
)
from shiftmax.sim.vectors import pack_rows

__all__ = ["RowSource", "RowMonitor", "RowScoreboard", "RowHarness", "RowReport", "RowSample",
           "PendingRow"]


class RowSource:
    """Presents the beats of source rows in order, idling at random between beats."""

    def __init__(self, dut, rng: np.random.Generator, shape: RowShape, *,
                 valid_probability: float = 1.0):
        self.dut = dut
        self.rng = rng
        self.shape = shape
        self.valid_probability = valid_probability
        self.has_user = hasattr(dut, "s_axis_tuser")
        self.has_last = hasattr(dut, "s_axis_tlast")
        self.load([])
        self.paused = False

    def load(self, rows: Sequence[SourceRow]) -> None:
        if rows:
            data, mask, last, starts = beats_of_rows(rows)
        else:
            data = np.zeros((0, self.shape.lanes_per_beat), dtype=np.int64)
            mask, last, starts = data.astype(bool), np.zeros(0, dtype=bool), []
        self.data, self.mask, self.last = data, mask, last
        self.words = pack_rows(data, self.shape.input_width) if len(data) else []
        self.user_words = pack_rows(mask.astype(np.int64), 1) if len(data) else []
        self.row_starts = list(starts)
        self.kinds = [row.kind for row in rows]
        self.row_of_beat = np.repeat(np.arange(len(rows)), [len(r) for r in rows]) if rows \
            else np.zeros(0, dtype=np.int64)
        self.next_index = 0
        self.presented: int | None = None

    def accepted(self) -> int:
        """The presented beat was taken; returns its index."""
        index, self.presented = self.presented, None
        self.next_index = index + 1
        return index

    def abandon_row(self) -> None:
        """A reset: drop the presented beat and the rest of the row in progress."""
        self.presented = None
        if self.next_index < len(self.words) and self.next_index not in self.row_starts:
            later = [s for s in self.row_starts if s > self.next_index]
            self.next_index = later[0] if later else len(self.words)

    def drive(self) -> None:
        dut = self.dut
        if self.paused:
            self.presented = None
        elif self.presented is None and self.next_index < len(self.words):
            if self.valid_probability >= 1.0 or self.rng.random() < self.valid_probability:
                b = self.presented = self.next_index
                dut.s_axis_tdata.value = self.words[b]
                if self.has_user:
                    dut.s_axis_tuser.value = self.user_words[b]
                if self.has_last:
                    _drive(dut.s_axis_tlast, int(self.last[b]))
            elif self.valid_probability < 1.0:
                # Idle: what is on the bus must not matter.
                dut.s_axis_tdata.value = int(self.rng.integers(0, 1 << 62)) & \
                    ((1 << (self.shape.lanes_per_beat * self.shape.input_width)) - 1)
                if self.has_last:
                    _drive(dut.s_axis_tlast, int(self.rng.integers(0, 2)))
        _drive(dut.s_axis_tvalid, int(self.presented is not None))

    @property
    def done(self) -> bool:
        return self.next_index >= len(self.words) and self.presented is None


@dataclass
class RowSample:
    """Port values seen by the next rising edge (``m_*`` read only while m_axis_tvalid)."""

    rst: int
    s_valid: int
    s_ready: int
    m_valid: int
    m_ready: int
    m_data: int | None
    m_last: int
    m_user: int

    @property
    def input_taken(self) -> bool:
        return bool(self.s_valid and self.s_ready and not self.rst)

    @property
    def output_taken(self) -> bool:
        return bool(self.m_valid and self.m_ready and not self.rst)


class RowMonitor:
    """Samples the ports and checks the output side of the handshake (and ``s_axis_tready``
    against ``ready_rule``, called once per sample, reset cycles included; a None from it
    leaves that sample unchecked)."""

    def __init__(self, dut, fail: Callable[[str], None],
                 ready_rule: Callable[[RowSample], bool | None] | None = None):
        self.dut = dut
        self.fail = fail
        self.ready_rule = ready_rule  # what s_axis_tready must be (shiftmax.sim.ready_rules)
        self.has_last = hasattr(dut, "m_axis_tlast")
        self.has_user = hasattr(dut, "m_axis_tuser")
        self.previous: RowSample | None = None

    def _port(self, name: str, edge: int) -> int | None:
        value, text = _read(getattr(self.dut, name))
        if value is None:
            self.fail(f"{name} is {text} while m_axis_tvalid is high before edge {edge}")
        return value

    def sample(self, edge: int) -> RowSample:
        dut, fail = self.dut, self.fail
        m_valid = _bit(dut.m_axis_tvalid, "m_axis_tvalid", edge, fail)
        m_data, m_last, m_user = None, 0, 0
        if m_valid:
            m_data = self._port("m_axis_tdata", edge)
            m_last = (self._port("m_axis_tlast", edge) or 0) if self.has_last else 0
            m_user = (self._port("m_axis_tuser", edge) or 0) if self.has_user else 0
        now = RowSample(rst=_bit(dut.rst, "rst", edge, fail),
                        s_valid=_bit(dut.s_axis_tvalid, "s_axis_tvalid", edge, fail),
                        s_ready=_bit(dut.s_axis_tready, "s_axis_tready", edge, fail),
                        m_valid=m_valid,
                        m_ready=_bit(dut.m_axis_tready, "m_axis_tready", edge, fail),
                        m_data=m_data, m_last=m_last, m_user=m_user)
        expected = self.ready_rule(now) if self.ready_rule is not None else None
        if expected is not None and not now.rst and bool(now.s_ready) != expected:
            fail(f"s_axis_tready was {now.s_ready} before edge {edge} with "
                 f"m_axis_tvalid={now.m_valid} m_axis_tready={now.m_ready}: the flow "
                 f"control documents {int(expected)}")
        before = self.previous
        if before is not None and before.m_valid and not before.m_ready and not before.rst:
            if not now.m_valid:
                fail(f"m_axis_tvalid fell before edge {edge} without a transfer")
            else:
                for name in ("m_data", "m_last", "m_user"):
                    old, new = getattr(before, name), getattr(now, name)
                    if old != new:
                        fail(f"m_axis_t{name[2:]} changed from {_hex(old)} to {_hex(new)} "
                             f"before edge {edge} while m_axis_tvalid was high and "
                             f"m_axis_tready low")
        self.previous = now
        return now


def _hex(value: int | None) -> str:
    return "X" if value is None else f"{value:#x}"


@dataclass
class RowReport:
    """What one run saw: rows formed and checked, latencies, handshake rates."""

    rows: int = 0  # rows the unit formed from the beats it took
    checked: int = 0  # rows whose every output beat was checked
    beats_in: int = 0
    beats_out: int = 0
    dropped_by_reset: int = 0  # rows in flight when a reset came
    cycles: int = 0
    seconds: float = 0.0
    latencies: list[int] = field(default_factory=list)  # of well-formed rows
    malformed_latencies: list[int] = field(default_factory=list)
    input_edges: list[int] = field(default_factory=list)
    output_edges: list[int] = field(default_factory=list)

    @staticmethod
    def _rate(edges: list[int]) -> float:
        return len(edges) / (edges[-1] - edges[0] + 1) if edges else 0.0

    @property
    def input_rate(self) -> float:
        """Input beats per clock from the first input handshake to the last."""
        return self._rate(self.input_edges)

    @property
    def output_rate(self) -> float:
        """Output beats per clock from the first output handshake to the last."""
        return self._rate(self.output_edges)


@dataclass
class PendingRow:
    """A formed row whose output beats are due: the row, its number among the rows formed
    since the start (or the last reset), the edge its last beat was taken at, the source's
    indices of the beats it was formed from, and (once computed) its expectation and the
    beats still to come."""

    row: FramedRow
    number: int
    accept_edge: int
    source_beats: list[int]
    expectation: RowExpectation | None = None
    beats: deque = field(default_factory=deque)


class RowScoreboard:
    """Frames the accepted beats as the unit must and checks the output beats in order.

    ``describe(row, beat_number, sample)`` formats a mismatch of a :class:`PendingRow`
    (``sample`` None: the row never came out).
    """

    def __init__(self, shape: RowShape, source: RowSource, report: RowReport,
                 describe: Callable[..., str], fail: Callable[[str], None], *,
                 check_last: bool, check_user: bool):
        self.shape = shape
        self.source = source
        self.report = report
        self.describe = describe
        self.fail = fail
        self.check_last = check_last
        self.check_user = check_user
        self.framer = Framer(n=shape.n, lanes_per_beat=shape.lanes_per_beat)
        self.pending: deque[PendingRow] = deque()
        self.formed = 0
        self.taken: list[int] = []  # the source's index of each beat given to the framer

    def accepted(self, index: int, edge: int) -> None:
        source = self.source
        self.taken.append(index)
        self.report.beats_in += 1
        self.report.input_edges.append(edge)
        last = bool(source.last[index]) if self.shape.streaming else True
        mask = source.mask[index] if self.shape.mask else None
        row = self.framer.push(source.data[index], mask, last)
        if row is None:
            return
        self.pending.append(PendingRow(row, self.formed, edge,
                                       [self.taken[b] for b in row.beats]))
        self.formed += 1
        self.report.rows += 1

    def output(self, sample: RowSample, edge: int) -> None:
        self.report.beats_out += 1
        self.report.output_edges.append(edge)
        if not self.pending:
            self.fail(f"unexpected output beat {_hex(sample.m_data)} (tlast {sample.m_last}, "
                      f"tuser {sample.m_user}) at edge {edge}: no row is pending (a stale "
                      f"beat after reset, a duplicate, or an output for dropped beats)")
            return
        row = self.pending[0]
        if row.expectation is None:
            self.expect()
        number, beat = row.beats.popleft()
        if number == 0:
            latencies = self.report.malformed_latencies if row.expectation.row.malformed \
                else self.report.latencies
            latencies.append(edge - row.accept_edge)
        if not self._matches(beat, sample):
            self.fail(self.describe(row, number, sample))
        if not row.beats:
            self.pending.popleft()
            self.report.checked += 1

    def expect(self) -> None:
        """The expected outputs of every pending row that has none yet, in one call of the
        golden model (one call per row would cost more than the rest of the bench)."""
        rows = [row for row in self.pending if row.expectation is None]
        for row, expectation in zip(rows, ref_row_outputs(self.shape, [r.row for r in rows]),
                                    strict=True):
            row.expectation = expectation
            row.beats = deque(enumerate(expectation.beats))

    def _matches(self, beat: OutputBeat, sample: RowSample) -> bool:
        if sample.m_data is None or (sample.m_data & beat.care) != (beat.data & beat.care):
            return False
        if self.check_last and sample.m_last != beat.last:
            return False
        return not self.check_user or sample.m_user == beat.user

    def restart(self) -> int:
        """A reset: forget the rows in flight and the framing; returns how many rows."""
        dropped = len(self.pending)
        self.pending.clear()
        self.framer.reset()
        self.taken.clear()
        self.formed = 0
        return dropped


class RowHarness(AxisHarness):
    """Clock, reset and the cycle loop of the row bench (failures collected as in
    :class:`~shiftmax.sim.axis.AxisHarness`).

    ``latency`` (the sidecar's) widens the time without any handshake after which rows that
    did not come out count as lost. ``input_cycles`` (the sidecar's; above 1 for a folded
    one-beat argmax, which raises ``s_axis_tready`` on a beat's last part) gives the reset
    check that many cycles more, counting only the cycles a beat is offered. ``ready_rule``
    (:func:`~shiftmax.sim.ready_rules.row_ready_rule`): what ``s_axis_tready`` must be on
    every cycle; one with a ``row_formed`` method is told each row the framing model forms,
    at the edge that took its last beat, with the beats it lacks (R less those it was formed
    from: an early ``tlast``'s, which a framer with ``fill`` emits itself).
    """

    def __init__(self, dut, rng: np.random.Generator, shape: RowShape, *, latency: int = 0,
                 input_cycles: int = 1, max_failures: int = 8,
                 ready_rule: Callable[[RowSample], bool | None] | None = None):
        super().__init__(dut, rng, max_failures=max_failures)
        self.shape = shape
        self.latency = latency  # the sidecar's: how long a row may take before it is lost
        self.input_cycles = input_cycles
        self.row_source = RowSource(dut, rng, shape)
        self.ready_rule = ready_rule
        self.row_monitor = RowMonitor(dut, self._fail, ready_rule)
        self.backpressure = AxisBackpressure(dut, rng)

    async def start(self) -> None:
        """Start the clock, drive idle inputs and reset for two cycles."""
        if hasattr(self.dut, "s_axis_tuser"):
            self.dut.s_axis_tuser.value = 0
        if hasattr(self.dut, "s_axis_tlast"):
            _drive(self.dut.s_axis_tlast, 0)
        await super().start()
        self.row_monitor.previous = None

    async def run(self, rows: Sequence[SourceRow], describe: Callable[..., str], *,
                  valid_probability: float = 1.0, ready_probability: float = 1.0,
                  reset_after: int | None = None, reset_cycles: int = 2,
                  ready_within: int = 4) -> RowReport:
        """Send the beats of ``rows`` and check every output beat in order.

        ``reset_after``: assert ``rst`` for ``reset_cycles`` cycles once that many beats have
        been taken (choose a beat inside a row); the rows in flight are dropped, the source
        abandons the row it was sending and the framing restarts; ``s_axis_tready`` must be
        high within ``ready_within`` cycles of the release (see ``input_cycles``). Raises
        :class:`~shiftmax.sim.axis.BenchFailure` on any mismatch or protocol violation.
        """
        dut = self.dut
        source = self.row_source
        source.load(rows)
        source.valid_probability = valid_probability
        self.backpressure.ready_probability = ready_probability
        report = RowReport()
        self.last_report = report
        scoreboard = self.scoreboard = RowScoreboard(
            self.shape, source, report, describe, self._fail,
            check_last=self.shape.streaming and self.row_monitor.has_last,
            check_user=self.row_monitor.has_user)
        start_edge = self.edge
        reset_left, waiting_for_ready = 0, None
        r = self.shape.beats_per_row
        idle_limit = 64 + 4 * r * self.input_cycles + 2 * self.latency + \
            4 * int(np.ceil(1 / max(ready_probability, 0.05)))
        idle = 0
        sample = None
        while True:
            await RisingEdge(dut.clk)
            self.edge += 1
            idle += 1
            if sample is not None:
                if sample.input_taken:
                    formed = report.rows
                    scoreboard.accepted(source.accepted(), self.edge)
                    if report.rows != formed and hasattr(self.ready_rule, "row_formed"):
                        row = scoreboard.pending[-1].row
                        self.ready_rule.row_formed(r - len(row.beats))
                    idle = 0
                if sample.output_taken:
                    scoreboard.output(sample, self.edge)
                    idle = 0
            if reset_after is not None and reset_left == 0 and \
                    scoreboard.report.beats_in >= reset_after:
                reset_after, reset_left = None, reset_cycles
            if reset_left:
                _drive(dut.rst, 1)
                source.paused = self.backpressure.paused = True
                reset_left -= 1
                if reset_left == 0:
                    waiting_for_ready = ready_within + self.input_cycles - 1
            else:
                _drive(dut.rst, 0)
                if source.paused:
                    source.paused = self.backpressure.paused = False
                    source.abandon_row()
                    report.dropped_by_reset += scoreboard.restart()
            source.drive()
            self.backpressure.drive()
            await ReadOnly()
            sample = self.row_monitor.sample(self.edge + 1)
            if waiting_for_ready is not None and not sample.rst:
                if sample.s_ready:
                    waiting_for_ready = None
                elif self.input_cycles == 1 or sample.s_valid:
                    waiting_for_ready -= 1
                    if waiting_for_ready < 0:
                        self._fail(f"s_axis_tready still low {ready_within + self.input_cycles - 1}"
                                   f" cycles after the reset was released")
                        waiting_for_ready = None
            if source.done and not scoreboard.pending and reset_left == 0:
                break
            if idle > idle_limit:
                if scoreboard.pending:
                    scoreboard.expect()
                    first = scoreboard.pending[0]
                    self._fail(f"{len(scoreboard.pending)} row(s) never came out whole; the "
                               f"first is " + describe(first, None, None))
                else:
                    self._fail(f"s_axis_tready stayed low for {idle_limit} cycles with "
                               f"beat #{source.next_index} offered")
                break
            if self.failure_count >= self.max_failures:
                break
        await self._expect_quiet(scoreboard, sample, cycles=8 + 2 * r)
        report.cycles = self.edge - start_edge
        self.raise_failures()
        return report

    async def _expect_quiet(self, scoreboard: RowScoreboard, sample: RowSample | None,
                            cycles: int) -> None:
        """A few more cycles with ready high: nothing may come out (no duplicates)."""
        dut = self.dut
        for _ in range(cycles):
            await RisingEdge(dut.clk)
            self.edge += 1
            if sample is not None and sample.output_taken:
                scoreboard.output(sample, self.edge)
            _drive(dut.s_axis_tvalid, 0)
            _drive(dut.m_axis_tready, 1)
            await ReadOnly()
            sample = self.row_monitor.sample(self.edge + 1)
