"""The benches' s_axis_tready rules (``shiftmax.sim.ready_rules``) against the hardware's own
numbers, and a credit rule that must notice a lost or an extra credit."""

from __future__ import annotations

import pytest

from shiftmax.hw import Argmax, Shiftmax
from shiftmax.hw.flow import fifo_depth
from shiftmax.sim.axis import Sample
from shiftmax.sim.ready_rules import CreditReadyRule, enable_ready, fifo_credits, ready_rule


def sample(*, rst=0, s_valid=0, s_ready=0, m_valid=0, m_ready=0) -> Sample:
    return Sample(rst=rst, s_valid=s_valid, s_ready=s_ready, m_valid=m_valid,
                  m_ready=m_ready, m_data=0 if m_valid else None)


@pytest.mark.parametrize("unit", [Argmax(n=10, value_bits=7),
                                  Shiftmax(n=10, value_bits=7, register_every=1),
                                  Shiftmax(n=3, value_bits=2, exp_bitwidth=2, buffer_bitwidth=6,
                                           register_every=0, stage_registers=False)],
                         ids=["argmax", "shiftmax-most-pipelined", "shiftmax-tiny"])
def test_fifo_credits_from_the_latency_agree_with_the_hardware(unit) -> None:
    assert unit.flow_control == "fifo"
    assert fifo_credits(unit.latency) == fifo_depth(unit.datapath_latency)


def test_credit_rule_lowers_ready_when_the_credits_are_spent() -> None:
    rule = CreditReadyRule(2)
    taken = sample(s_valid=1, s_ready=1)
    assert rule(taken) and rule(taken)  # two beats taken, no result out yet
    assert not rule(sample(s_valid=1))  # no credit left
    assert not rule(sample(m_valid=1, m_ready=1))  # a result leaves at this edge...
    assert rule(sample(s_valid=1, s_ready=1))  # ...its credit admits a beat an edge later


def test_credit_rule_restores_every_credit_at_reset() -> None:
    rule = CreditReadyRule(1)
    rule(sample(s_valid=1, s_ready=1))
    assert not rule(sample())
    rule(sample(rst=1))
    assert rule(sample())


def test_rules_by_form() -> None:
    assert ready_rule({"flow_control": "enable", "latency": 4}) is enable_ready
    assert isinstance(ready_rule({"flow_control": "fifo", "latency": 6}), CreditReadyRule)
    assert ready_rule({"flow_control": "skid", "latency": 5}) is None
    assert ready_rule({"flow_control": "fifo", "latency": 6, "input_cycles": 5}) is None
    assert enable_ready(sample(m_valid=0, m_ready=0))
    assert not enable_ready(sample(m_valid=1, m_ready=0))
