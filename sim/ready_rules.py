"""What ``s_axis_tready`` must be before each edge, from the ports alone (docs/flow-control.md).

The one-beat bench (``shiftmax.sim.unit_tests``) checks the rule of the unit's flow-control
form on every cycle (``AxisMonitor``'s ``ready_rule``), so a design whose values stay right
but whose handshake drifts from the documented one fails: a clock enable that ignores an
empty output, a credit lost or one too many, all of which only cost throughput or overrun a
FIFO under backpressure. A rule is called once per sample, reset cycles included, in order,
and may count transfers. No Amaranth here: the benches run without it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["enable_ready", "fifo_credits", "CreditReadyRule", "ready_rule",
           "streaming_argmax_credits", "RowCreditReadyRule", "row_ready_rule"]


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

def streaming_argmax_credits(sidecar: dict) -> int:
    """Credits of the streaming argmax's fifo form, one per entry of its output FIFO:
    ``ceil((pass latency + 4) / R) + 3`` (docs/streaming.md), the pass latency being the
    sidecar's latency less the form's 2 cycles."""
    beats = int(sidecar["beats_per_row"])
    return -(-(int(sidecar["latency"]) - 2 + 4) // beats) + 3


class RowCreditReadyRule:
    """The fifo form of a streaming unit that counts a credit per formed row (the streaming
    argmax, docs/streaming.md): ``s_axis_tready`` (a register) high while at least ``needed``
    credits are left.

    ``credits`` at reset. A credit is taken when the framer emits a row's last beat, an edge
    after the edge that took it (the framer's register; the row bench calls
    :meth:`row_formed` at the edge its framing model forms a row), and returned at the edge
    its result is taken at ``m_axis``; the register shows the count after the last edge.
    Called once per sample, reset cycles included, in order, as :class:`CreditReadyRule`.
    """

    def __init__(self, credits: int, needed: int = 2) -> None:
        self.credits = credits
        self.needed = needed
        self._restart()

    def _restart(self) -> None:
        self.left = self.credits
        self.formed = 0  # rows formed at the last edge, counted at the next one
        self.ending = 0  # rows formed at the edge before, counted at the last edge
        self.leaving = False  # a result taken at the last edge

    def row_formed(self) -> None:
        """The framing model formed a row at this edge (its last beat was taken)."""
        self.formed += 1

    def __call__(self, sample) -> bool:
        if sample.rst:
            self._restart()
            return True
        self.left += int(self.leaving) - self.ending
        self.ending, self.formed = self.formed, 0
        self.leaving = sample.output_taken
        return self.left >= self.needed


def row_ready_rule(sidecar: dict) -> Callable | None:
    """A fresh rule for a unit on the row bench, or None where the documented behaviour
    does not fix ``s_axis_tready`` from the ports and the formed rows: a one-beat unit
    (R = 1) takes :func:`ready_rule`'s; the streaming argmax in the enable form
    ``m_axis_tready | ~m_axis_tvalid`` (its framer makes no filler beats), in the fifo form
    :class:`RowCreditReadyRule` with two credits needed (the framer's register may hold one
    row end not yet counted). The streaming shiftmax (its passes count credits among
    themselves) and top-K (filler beats) have none yet."""
    if int(sidecar.get("beats_per_row", 1)) == 1:
        return ready_rule(sidecar)
    if sidecar.get("unit") != "argmax" or int(sidecar.get("input_cycles", 1)) != 1:
        return None
    if sidecar.get("flow_control") == "enable":
        return enable_ready
    if sidecar.get("flow_control") == "fifo":
        return RowCreditReadyRule(streaming_argmax_credits(sidecar))
    return None
