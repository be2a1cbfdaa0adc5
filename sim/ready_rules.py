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

__all__ = ["enable_ready", "fifo_credits", "CreditReadyRule", "ready_rule"]


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
