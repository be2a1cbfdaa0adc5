"""A small cocotb bench for AXI4-Stream units with one input and one output stream.

Components, each driven once per clock cycle by :class:`AxisHarness`:

- :class:`AxisSource`: drives ``s_axis_*`` from a list of words, with random idle gaps; a
  presented beat holds until it is taken (AXI4-Stream rule).
- :class:`AxisBackpressure`: drives ``m_axis_tready`` at random (or held high).
- :class:`AxisMonitor`: samples both handshakes every cycle and checks the output protocol
  (``m_axis_tdata`` stable and ``m_axis_tvalid`` held while valid and not ready).
- :class:`Scoreboard`: in-order comparison of every output beat with the expected word of the
  input beat it belongs to; nothing may be lost, duplicated or reordered; a reset restarts it.

Timing: after each rising edge the components drive their inputs; at ``ReadOnly`` of the
same time step the monitor samples every port. Those values are what the *next* rising edge
sees, so a beat "taken at edge t" is one whose valid and ready were both high in the sample
taken just before edge t. Nothing is read while values settle, so the bench behaves the same
on Icarus and Verilator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

__all__ = ["AxisSource", "AxisBackpressure", "AxisMonitor", "Scoreboard", "AxisHarness",
           "StreamReport", "BenchFailure"]

CLOCK_PERIOD_NS = 10


class BenchFailure(AssertionError):
    """A mismatch or protocol violation; the message holds input, expected and actual."""


class AxisSource:
    """Presents ``words[i]`` on ``s_axis_tdata`` in order, idling at random between beats."""

    def __init__(self, dut, rng: np.random.Generator, *, valid_probability: float = 1.0):
        self.dut = dut
        self.rng = rng
        self.valid_probability = valid_probability
        self.words: Sequence[int] = ()
        self.next_index = 0
        self.presented: int | None = None  # index of the beat on the bus, if any
        self.paused = False

    def load(self, words: Sequence[int]) -> None:
        self.words, self.next_index, self.presented = words, 0, None

    def accepted(self) -> int:
        """The presented beat was taken; returns its index."""
        index, self.presented = self.presented, None
        self.next_index = index + 1
        return index

    def drive(self) -> None:
        if self.paused:
            # Reset drops a presented beat: it is offered again afterwards.
            self.presented = None
        elif self.presented is None and self.next_index < len(self.words):
            if self.valid_probability >= 1.0 or self.rng.random() < self.valid_probability:
                self.presented = self.next_index
                self.dut.s_axis_tdata.value = self.words[self.presented]
        _drive(self.dut.s_axis_tvalid, int(self.presented is not None))

    @property
    def done(self) -> bool:
        return self.next_index >= len(self.words) and self.presented is None


class AxisBackpressure:
    """Drives ``m_axis_tready`` high with probability ``ready_probability`` each cycle."""

    def __init__(self, dut, rng: np.random.Generator, *, ready_probability: float = 1.0):
        self.dut = dut
        self.rng = rng
        self.ready_probability = ready_probability
        self.paused = False

    def drive(self) -> None:
        if self.paused:
            ready = 0
        elif self.ready_probability >= 1.0:
            ready = 1
        else:
            ready = int(self.rng.random() < self.ready_probability)
        _drive(self.dut.m_axis_tready, ready)


@dataclass
class Sample:
    """Port values seen by the next rising edge."""

    rst: int
    s_valid: int
    s_ready: int
    m_valid: int
    m_ready: int
    m_data: int | None  # read only while m_axis_tvalid is high

    @property
    def input_taken(self) -> bool:
        return bool(self.s_valid and self.s_ready and not self.rst)

    @property
    def output_taken(self) -> bool:
        return bool(self.m_valid and self.m_ready and not self.rst)


class AxisMonitor:
    """Samples the ports and checks the output side of the handshake."""

    def __init__(self, dut, fail: Callable[[str], None],
                 ready_rule: Callable[[Sample], bool] | None = None):
        self.dut = dut
        self.fail = fail
        self.ready_rule = ready_rule  # what s_axis_tready must be (shiftmax.sim.ready_rules)
        self.previous: Sample | None = None

    def sample(self, edge: int) -> Sample:
        dut = self.dut
        m_valid = _bit(dut.m_axis_tvalid, "m_axis_tvalid", edge, self.fail)
        m_data = None
        if m_valid:
            m_data, text = _read(dut.m_axis_tdata)
            if m_data is None:
                self.fail(f"m_axis_tdata is {text} while m_axis_tvalid is high before edge "
                          f"{edge}")
        now = Sample(rst=_bit(dut.rst, "rst", edge, self.fail),
                     s_valid=_bit(dut.s_axis_tvalid, "s_axis_tvalid", edge, self.fail),
                     s_ready=_bit(dut.s_axis_tready, "s_axis_tready", edge, self.fail),
                     m_valid=m_valid,
                     m_ready=_bit(dut.m_axis_tready, "m_axis_tready", edge, self.fail),
                     m_data=m_data)
        # Once per sample, reset cycles included: a rule may count transfers.
        expected = self.ready_rule(now) if self.ready_rule is not None else None
        if expected is not None and not now.rst and bool(now.s_ready) != expected:
            self.fail(f"s_axis_tready was {now.s_ready} before edge {edge} with "
                      f"m_axis_tvalid={now.m_valid} m_axis_tready={now.m_ready}: the flow "
                      f"control documents {int(expected)}")
        before = self.previous
        if before is not None and before.m_valid and not before.m_ready and not before.rst:
            if not now.m_valid:
                self.fail(f"m_axis_tvalid fell before edge {edge} without a transfer")
            elif now.m_data != before.m_data:
                self.fail(f"m_axis_tdata changed from {before.m_data:#x} to {now.m_data:#x} "
                          f"before edge {edge} while m_axis_tvalid was high and m_axis_tready "
                          f"low")
        self.previous = now
        return now


class Scoreboard:
    """In-order check of output words against the expected word of each accepted input.

    ``describe(index, actual_word)`` formats a mismatch (input row, expected, actual lanes).
    """

    def __init__(self, expected_words: Sequence[int], describe: Callable[[int, int], str],
                 fail: Callable[[str], None]):
        self.expected_words = expected_words
        self.describe = describe
        self.fail = fail
        self.pending: deque[tuple[int, int]] = deque()  # (input index, accept edge)
        self.latencies: list[int] = []
        self.checked = 0
        self.mismatches = 0

    def accepted(self, index: int, edge: int) -> None:
        self.pending.append((index, edge))

    def output(self, word: int, edge: int) -> None:
        if not self.pending:
            self.fail(f"unexpected output beat {word:#x} at edge {edge}: no input is pending "
                      f"(a stale beat after reset, or a duplicate)")
            return
        index, accept_edge = self.pending.popleft()
        self.latencies.append(edge - accept_edge)
        self.checked += 1
        if word != self.expected_words[index]:
            self.mismatches += 1
            self.fail(self.describe(index, word))

    def restart(self) -> int:
        """Forget the beats in flight (a reset drops them); returns how many."""
        dropped = len(self.pending)
        self.pending.clear()
        return dropped


@dataclass
class StreamReport:
    """What one stream run saw."""

    vectors: int = 0
    checked: int = 0
    dropped_by_reset: int = 0
    cycles: int = 0
    seconds: float = 0.0
    latencies: list[int] = field(default_factory=list)


class AxisHarness:
    """Clock, reset and one cycle loop that runs the components.

    Failures are collected (the first ``max_failures`` messages kept) and raised together as
    one :class:`BenchFailure` at the end of :meth:`run`, so a run reports several
    mismatching vectors at once.
    """

    def __init__(self, dut, rng: np.random.Generator, *, max_failures: int = 8,
                 ready_rule: Callable[[Sample], bool] | None = None):
        self.dut = dut
        self.rng = rng
        self.max_failures = max_failures
        self.failures: list[str] = []
        self.failure_count = 0
        self.edge = 0
        self.last_report: StreamReport | None = None
        self.source = AxisSource(dut, rng)
        self.backpressure = AxisBackpressure(dut, rng)
        self.monitor = AxisMonitor(dut, self._fail, ready_rule)
        self._clock_started = False

    def _fail(self, message: str) -> None:
        self.failure_count += 1
        if len(self.failures) < self.max_failures:
            self.failures.append(message)

    async def start(self) -> None:
        """Start the clock, drive idle inputs and reset for two cycles."""
        if not self._clock_started:
            Clock(self.dut.clk, CLOCK_PERIOD_NS, unit="ns").start()
            self._clock_started = True
        self.dut.s_axis_tdata.value = 0
        for handle, value in ((self.dut.s_axis_tvalid, 0), (self.dut.m_axis_tready, 0),
                              (self.dut.rst, 1)):
            _drive(handle, value)
        for _ in range(2):
            await RisingEdge(self.dut.clk)
        _drive(self.dut.rst, 0)
        await RisingEdge(self.dut.clk)
        self.monitor.previous = None

    async def run(self, words: Sequence[int], expected_words: Sequence[int],
                  describe: Callable[[int, int], str], *, valid_probability: float = 1.0,
                  ready_probability: float = 1.0, reset_after: int | None = None,
                  reset_cycles: int = 2, ready_within: int = 4,
                  input_cycles: int = 1) -> StreamReport:
        """Stream ``words`` through the unit and check every output in order.

        ``reset_after``: assert ``rst`` for ``reset_cycles`` cycles once that many inputs
        have been accepted (mid-stream); the beats in flight are dropped from the scoreboard,
        and ``s_axis_tready`` must be high within ``ready_within`` cycles of the release. A
        folded unit (``input_cycles > 1``, from the sidecar) raises it on a beat's last part,
        so it gets ``input_cycles - 1`` more, counting only the cycles a beat is offered.
        Raises :class:`BenchFailure` on any mismatch or protocol violation.
        """
        dut = self.dut
        scoreboard = Scoreboard(expected_words, describe, self._fail)
        self.source.load(words)
        self.source.valid_probability = valid_probability
        self.backpressure.ready_probability = ready_probability
        report = self.last_report = StreamReport(vectors=len(words))
        start_edge = self.edge
        reset_left = 0
        waiting_for_ready = None
        idle_limit = 64 + 4 * input_cycles + 4 * int(np.ceil(1 / max(ready_probability, 0.05)))
        idle = 0
        sample = None
        while True:
            await RisingEdge(dut.clk)
            self.edge += 1
            idle += 1
            if sample is not None:
                if sample.input_taken:
                    scoreboard.accepted(self.source.accepted(), self.edge)
                    idle = 0
                if sample.output_taken:
                    scoreboard.output(sample.m_data, self.edge)
                    idle = 0
            # Drive the next cycle.
            if reset_after is not None and reset_left == 0 and \
                    self.source.next_index >= reset_after:
                reset_after, reset_left = None, reset_cycles
            if reset_left:
                _drive(dut.rst, 1)
                self.source.paused = self.backpressure.paused = True
                reset_left -= 1
                if reset_left == 0:
                    waiting_for_ready = ready_within + input_cycles - 1
            else:
                _drive(dut.rst, 0)
                if self.source.paused:
                    self.source.paused = self.backpressure.paused = False
                    report.dropped_by_reset += scoreboard.restart()
            self.source.drive()
            self.backpressure.drive()
            await ReadOnly()
            sample = self.monitor.sample(self.edge + 1)
            if waiting_for_ready is not None and not sample.rst:
                if sample.s_ready:
                    waiting_for_ready = None
                elif input_cycles == 1 or sample.s_valid:
                    waiting_for_ready -= 1
                    if waiting_for_ready < 0:
                        self._fail(f"s_axis_tready still low {ready_within + input_cycles - 1}"
                                   f" cycles after the reset was released")
                        waiting_for_ready = None
            if self.source.done and not scoreboard.pending and reset_left == 0:
                break
            if idle > idle_limit:
                if scoreboard.pending:
                    self._fail(f"{len(scoreboard.pending)} beat(s) never came out; the first "
                               f"lost one is {describe(scoreboard.pending[0][0], None)}")
                else:
                    self._fail(f"s_axis_tready stayed low for {idle_limit} cycles with "
                               f"input #{self.source.next_index} offered")
                break
            if self.failure_count >= self.max_failures:
                break
        # A few more cycles with ready high: nothing may come out (no duplicates).
        await self._expect_silence(scoreboard, sample, cycles=8)
        report.checked = scoreboard.checked
        report.latencies = scoreboard.latencies
        report.cycles = self.edge - start_edge
        self.raise_failures()
        return report

    async def _expect_silence(self, scoreboard: Scoreboard, sample: Sample | None,
                              cycles: int) -> None:
        dut = self.dut
        for _ in range(cycles):
            await RisingEdge(dut.clk)
            self.edge += 1
            if sample is not None and sample.output_taken:
                scoreboard.output(sample.m_data, self.edge)
            _drive(dut.s_axis_tvalid, 0)
            _drive(dut.m_axis_tready, 1)
            await ReadOnly()
            sample = self.monitor.sample(self.edge + 1)

    def raise_failures(self) -> None:
        if self.failure_count:
            more = self.failure_count - len(self.failures)
            text = "\n".join(self.failures)
            if more > 0:
                text += f"\n... and {more} more"
            raise BenchFailure(text)


# The last value written to each 1-bit input, so that unchanged values are not written again
# (a write costs more than the rest of a cycle's bench work).
_DRIVEN: dict[int, int] = {}


def _drive(handle, value: int) -> None:
    key = id(handle)
    if _DRIVEN.get(key) != value:
        handle.value = value
        _DRIVEN[key] = value


def _bit(handle, name: str, edge: int, fail: Callable[[str], None]) -> int:
    value, text = _read(handle)
    if value is None:
        fail(f"{name} is {text} before edge {edge}")
        return 0
    return value


def _read(handle) -> tuple[int | None, str]:
    """A port's value as an unsigned int (None if it holds X or Z) and as a bit string.

    Reads the simulator's bit string directly: building a LogicArray per read (``.value``)
    costs more than the rest of the bench together on wide ports.
    """
    raw = getattr(handle, "_handle", None)
    text = raw.get_signal_val_binstr() if raw is not None else str(handle.value)
    try:
        return int(text, 2), text
    except ValueError:
        return None, text
