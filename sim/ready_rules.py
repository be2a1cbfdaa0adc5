"""What ``s_axis_tready`` must be before each edge, from the ports alone (docs/flow-control.md).

The one-beat bench (``shiftmax.sim.unit_tests``) checks the rule of the unit's flow-control
form on every cycle (``AxisMonitor``'s ``ready_rule``), so a design whose values stay right
but whose handshake drifts from the documented one fails: a clock enable that ignores an
empty output, a credit lost or one too many, all of which only cost throughput or overrun a
FIFO under backpressure. A rule is called once per sample, reset cycles included, in order,
and may count transfers. No Amaranth here: the benches run without it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

__all__ = ["enable_ready", "fifo_credits", "CreditReadyRule", "ready_rule",
           "streaming_credits", "RowReadyRule", "RowEnableReadyRule", "RowCreditReadyRule",
           "RowFillReadyRule", "row_ready_rule"]


def enable_ready(sample) -> bool:
    """The enable form: ``s_axis_tready = m_axis_tready | ~m_axis_tvalid``."""
    return bool(sample.m_ready or not sample.m_valid)


def fifo_credits(latency: int) -> int:
    """Credits of a one-beat unit in the fifo form whose latency (the sidecar's) is
    ``latency``: ``L + 3`` for a datapath of latency ``L``, which the form makes ``L + 2``
    (``shiftmax.hw.flow.fifo_depth``; tests/test_sim_ready_rules.py checks they agree)."""
    return latency + 1


class CreditReadyRule:
    """The fifo form: ``s_axis_tready`` high while a credit is left.

    ``credits`` at reset; a beat taken at an edge uses one, a result taken at ``m_axis``
    returns it, and ``s_axis_tready`` (a register) shows the count after the last edge.
    """

    def __init__(self, credits: int) -> None:
        self.credits = credits
        self.left = credits

    def __call__(self, sample) -> bool:
        if sample.rst:
            self.left = self.credits
            return True
        expected = self.left > 0
        self.left += int(sample.output_taken) - int(sample.input_taken)
        return expected


def ready_rule(sidecar: dict) -> Callable | None:
    """A fresh rule for a one-beat unit (not folded) described by its sidecar, or None where
    the ports alone do not fix ``s_axis_tready`` (the skid form's register slice, folded
    units)."""
    if int(sidecar.get("input_cycles", 1)) != 1:
        return None
    if sidecar.get("flow_control") == "enable":
        return enable_ready
    if sidecar.get("flow_control") == "fifo":
        return CreditReadyRule(fifo_credits(int(sidecar["latency"])))
    return None


# --- the row bench (shiftmax.sim.rows) -------------------------------------------------------

def streaming_credits(sidecar: dict) -> int:
    """Credits of the fifo form of the streaming argmax and top-K, one per entry of the
    output FIFO: ``ceil((pass latency + 4) / R) + 3`` (docs/streaming.md), the pass latency
    being the sidecar's latency less the form's 2 cycles."""
    beats = int(sidecar["beats_per_row"])
    return -(-(int(sidecar["latency"]) - 2 + 4) // beats) + 3


class RowReadyRule(ABC):
    """``s_axis_tready`` of a streaming unit on the row bench: high while the form admits a
    beat (:meth:`admits`) and the framer fills no row; None (not checked) where the form's
    admission is not fixed by the ports.

    With ``fill`` the unit's framer (``shiftmax.hw.framing.RowFramer``) emits the beats an
    early ``tlast`` left out itself, one at each edge its state moves (:meth:`moves`), with
    ``s_axis_tready`` low: from the edge after the one that took the early beat until the
    filler at the row's end has gone out. The row bench calls :meth:`row_formed` at the
    edge its framing model forms a row, with the beats the row lacks; a filled row ends (its
    last beat emitted by the framer) at the edge of its last filler. Called once per sample,
    reset cycles included, in order.
    """

    def __init__(self, *, fill: bool = False) -> None:
        self.fill = fill
        self._restart()

    def _restart(self) -> None:
        self.filling = 0  # filler beats the framer has still to emit

    def row_formed(self, missing: int = 0) -> None:
        """The framing model formed a row at this edge (its last beat was taken); the row
        lacks ``missing`` beats (an early ``tlast``)."""
        if self.fill and missing:
            self.filling = missing
        else:
            self._row_end()

    def _row_end(self) -> None:  # noqa: B027 (a hook: only a credit rule counts rows)
        """The framer emitted a row's last beat at this edge."""

    @abstractmethod
    def admits(self, sample) -> bool | None:
        """The form admits a beat in this sample, or None where the ports do not say (called
        once per sample, not in reset)."""

    @abstractmethod
    def moves(self, sample) -> bool:
        """The framer's state moves at the edge after this sample."""

    def __call__(self, sample) -> bool | None:
        if sample.rst:
            self._restart()
            return True
        admits = self.admits(sample)  # every sample: a credit rule counts here
        expected = False if self.filling else admits
        if self.filling and self.moves(sample):
            self.filling -= 1
            if not self.filling:
                self._row_end()
        return expected


class RowEnableReadyRule(RowReadyRule):
    """The enable form of a streaming unit (the streaming top-K with ``fill``):
    ``s_axis_tready = (m_axis_tready | ~m_axis_tvalid) & ~filling``; the whole unit, its
    framer included, runs under that clock enable, so a filler beat goes out only at an
    edge the enable is high."""

    def admits(self, sample) -> bool:
        return enable_ready(sample)

    def moves(self, sample) -> bool:
        return enable_ready(sample)


class RowCreditReadyRule(RowReadyRule):
    """The fifo form of a streaming unit that counts a credit per formed row (the streaming
    argmax and top-K, docs/streaming.md): ``s_axis_tready`` (a register) high while at least
    ``needed`` credits are left, and (with ``fill``) low while the framer fills a row.

    ``credits`` at reset. A row's credit is taken an edge after the framer emits the row's
    last beat (the framer's register): an edge after the edge that took that beat, or with
    ``fill``, for a row an early ``tlast`` cut short, an edge after the edge of its last
    filler. It is returned at the edge its result is taken at ``m_axis``; the register shows
    the count after the last edge. The framer runs freely: a filler goes out at every edge.
    """

    def __init__(self, credits: int, needed: int = 2, *, fill: bool = False) -> None:
        self.credits = credits
        self.needed = needed
        super().__init__(fill=fill)

    def _restart(self) -> None:
        super()._restart()
        self.left = self.credits
        self.formed = 0  # rows ended at the last edge, counted at the next one
        self.ending = 0  # rows ended at the edge before, counted at the last edge
        self.leaving = False  # a result taken at the last edge

    def _row_end(self) -> None:
        self.formed += 1

    def admits(self, sample) -> bool:
        self.left += int(self.leaving) - self.ending
        self.ending, self.formed = self.formed, 0
        self.leaving = sample.output_taken
        return self.left >= self.needed

    def moves(self, sample) -> bool:
        return True


class RowFillReadyRule(RowReadyRule):
    """What the ports fix of ``s_axis_tready`` in a unit whose admission they do not fix (the
    streaming shiftmax, see :func:`row_ready_rule`): low while its framer must still be
    filling a row, that is on the ``missing`` samples after the early beat (the framer emits
    at most one filler per edge, and only when the row buffer has room, so the fill may last
    longer); None (not checked) otherwise. Always with ``fill``."""

    def __init__(self) -> None:
        super().__init__(fill=True)

    def admits(self, sample) -> None:
        return None

    def moves(self, sample) -> bool:
        return True  # at most one filler per edge: the fill's shortest length


def row_ready_rule(sidecar: dict) -> Callable | None:
    """A fresh rule for a unit on the row bench, or None where the documented behaviour
    does not fix ``s_axis_tready`` from the ports and the formed rows.

    A one-beat unit (R = 1) takes :func:`ready_rule`'s. The streaming argmax (its framer
    makes no filler beats): in the enable form ``m_axis_tready | ~m_axis_tvalid``, in the
    fifo form :class:`RowCreditReadyRule` with two credits needed (the framer's register may
    hold one row end not yet counted). The streaming top-K, whose framer fills the beats an
    early ``tlast`` left out with ``s_axis_tready`` low: :class:`RowEnableReadyRule` and
    :class:`RowCreditReadyRule` with ``fill``, its credits counted as the argmax's.

    The streaming shiftmax has no exact rule: its ``s_axis_tready`` is the row buffer's room
    (and low while its framer fills), a register that counts the beats the framer writes
    less those its second pass reads back, and that pass starts a row only once the
    distance buffer has room for all of it, which the output pass frees as
    ``m_axis_tready`` lets it. Fixing it from the ports would take a cycle-exact copy of the
    three passes' schedules (their internal latencies, the row FIFOs, the buffers' counts
    and room flags), not a rule of the form. It takes :class:`RowFillReadyRule`, in both
    forms: ``s_axis_tready`` low on the cycles its framer must be filling, else not
    checked."""
    if int(sidecar.get("beats_per_row", 1)) == 1:
        return ready_rule(sidecar)
    unit = sidecar.get("unit")
    if int(sidecar.get("input_cycles", 1)) != 1:
        return None
    if unit == "shiftmax":
        return RowFillReadyRule() if sidecar.get("flow_control") in ("enable", "fifo") \
            else None
    if unit not in ("argmax", "topk"):
        return None
    fill = unit == "topk"
    if sidecar.get("flow_control") == "enable":
        return RowEnableReadyRule(fill=True) if fill else enable_ready
    if sidecar.get("flow_control") == "fifo":
        return RowCreditReadyRule(streaming_credits(sidecar), fill=fill)
    return None
