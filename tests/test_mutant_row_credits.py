# amaranth: UnusedElaboratable=no
"""The row bench's s_axis_tready rule for the streaming argmax, and a credit mutant that only
costs throughput, which fails the bench only through that rule.

The streaming argmax's fifo form takes a beat while two credits of its output FIFO are left;
a credit is taken when the framer emits a row's last beat and returned when the result
leaves (docs/streaming.md). Its credit flag is a register computed from the count: after a
row end ``credits >= 3`` (two left once this one is taken). With ``credits >= 4`` instead (a
``make mutate`` compare swap) the flag falls one credit early: no output is wrong and at
full rate with ``m_axis_tready`` high two credits are never missed, so only beats the
documented rule (:class:`shiftmax.sim.ready_rules.RowCreditReadyRule`) admits are refused.
Before the row bench checked that rule, the mutant passed it.

Its kin the other way, a returned credit that raises the flag from an empty count
(``credits >= 1'h0`` for ``credits >= 1'h1``: one credit left, a beat admitted), shows only
when every credit is out, which takes rows of one beat (a tlast on beat 0) back to back under
backpressure: the row bench's ``test_one_beat_rows_back_to_back_under_backpressure``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from shiftmax.hw import StreamingArgmax
from shiftmax.sim.axis import Sample
from shiftmax.sim.config import SimConfig
from shiftmax.sim.ready_rules import (
    CreditReadyRule,
    RowCreditReadyRule,
    RowEnableReadyRule,
    RowFillReadyRule,
    enable_ready,
    row_ready_rule,
    streaming_credits,
)
from shiftmax.sim.runner import generate_verilog, simulate

BUILD_ROOT = Path(__file__).resolve().parents[1] / "build" / "mutant-pytest"
STREAMING_ARGMAX = SimConfig(unit="argmax", n=10, value_bits=7, lanes_per_beat=4)

icarus = pytest.mark.skipif(shutil.which("iverilog") is None,
                            reason="Icarus Verilog is not installed (make iverilog)")


def sample(*, rst=0, s_valid=0, s_ready=0, m_valid=0, m_ready=0) -> Sample:
    return Sample(rst=rst, s_valid=s_valid, s_ready=s_ready, m_valid=m_valid,
                  m_ready=m_ready, m_data=0 if m_valid else None)


@pytest.mark.parametrize("params", [
    {"n": 10, "value_bits": 7, "lanes_per_beat": 4},
    {"n": 11, "value_bits": 5, "lanes_per_beat": 3, "register_every": 1, "mask": True},
    {"n": 40, "value_bits": 7, "lanes_per_beat": 2, "stage_registers": False},
    {"n": 197, "value_bits": 7, "lanes_per_beat": 16},
], ids=["default", "p3-k1-mask", "p2-no-stage-registers", "n197-p16"])
def test_streaming_argmax_credits_agree_with_the_hardware(params) -> None:
    unit = StreamingArgmax(**params)
    assert unit.flow_control == "fifo"
    sidecar = {"latency": unit.latency, "beats_per_row": unit.beats_per_row}
    assert streaming_credits(sidecar) * (unit.index_bits + 1) == unit.memory_bits


def test_row_credit_rule_counts_a_row_an_edge_after_its_last_beat() -> None:
    rule = RowCreditReadyRule(2)
    assert rule(sample(s_valid=1, s_ready=1))
    rule.row_formed()  # this edge took the row's last beat; the framer emits it next
    assert rule(sample())  # not counted yet: 2 left
    assert not rule(sample())  # counted at the next edge: 1 left
    assert rule.left == 1


def test_row_credit_rule_needs_two_credits_and_returns_one_per_result() -> None:
    rule = RowCreditReadyRule(3)
    rule(sample())
    for _ in range(2):
        rule.row_formed()
        rule(sample())
    assert not rule(sample(m_valid=1, m_ready=1))  # 1 left; a result leaves at this edge
    assert rule(sample())  # its credit seen an edge later
    rule(sample(rst=1))
    assert rule.left == 3 and rule(sample())


def test_rules_of_the_row_bench_by_unit_and_form() -> None:
    streaming = {"unit": "argmax", "beats_per_row": 3, "latency": 7, "input_cycles": 1}
    assert isinstance(row_ready_rule({**streaming, "flow_control": "fifo"}), RowCreditReadyRule)
    assert row_ready_rule({**streaming, "flow_control": "enable"}) is enable_ready
    assert isinstance(row_ready_rule({**streaming, "unit": "shiftmax", "flow_control": "fifo"}),
                      RowFillReadyRule)
    assert isinstance(row_ready_rule({**streaming, "unit": "topk", "flow_control": "enable"}),
                      RowEnableReadyRule)
    one_beat = {"unit": "argmax", "beats_per_row": 1, "latency": 6, "flow_control": "fifo"}
    assert isinstance(row_ready_rule(one_beat), CreditReadyRule)


def run_broken(name: str, old: str, new: str):
    verilog, sidecar = generate_verilog(STREAMING_ARGMAX, BUILD_ROOT / "good-streaming-argmax")
    assert sidecar["flow_control"] == "fifo" and sidecar["beats_per_row"] == 3
    text = verilog.read_text()
    assert text.count(old) == 1, f"expected one {old!r}"
    broken = BUILD_ROOT / name / verilog.name
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(text.replace(old, new))
    shutil.copy(verilog.with_suffix(".json"), broken.with_suffix(".json"))
    return simulate(STREAMING_ARGMAX, simulator="icarus", seed=4, vectors=300, flow="runner",
                    verilog=broken, build_root=BUILD_ROOT / f"{name}-sim")


@icarus
def test_credit_flag_raised_from_an_empty_count_fails_the_one_beat_rows() -> None:
    result = run_broken("streaming-argmax-credit-extra", "credits >= 1'h1;", "credits >= 1'h0;")
    assert not result.passed, "the mutant passed the row bench"
    failed = {test.name for test in result.tests if test.status == "failed"}
    assert "test_one_beat_rows_back_to_back_under_backpressure" in failed, failed
    text = result.failure_text()
    assert "s_axis_tready was 1" in text and "the flow control documents 0" in text, text


def one_credit_early(verilog: str) -> str:
    """The credit flag after a row end needs three credits instead of two."""
    old = "credits >= 2'h3;"
    assert verilog.count(old) == 1, "expected one row-end credit compare"
    return verilog.replace(old, "credits >= 3'h4;")


@icarus
def test_credit_flag_one_credit_early_fails_the_row_benchs_ready_rule() -> None:
    verilog, sidecar = generate_verilog(STREAMING_ARGMAX, BUILD_ROOT / "good-streaming-argmax")
    assert sidecar["flow_control"] == "fifo" and sidecar["beats_per_row"] == 3
    broken = BUILD_ROOT / "streaming-argmax-credit-early" / verilog.name
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(one_credit_early(verilog.read_text()))
    shutil.copy(verilog.with_suffix(".json"), broken.with_suffix(".json"))
    result = simulate(STREAMING_ARGMAX, simulator="icarus", seed=4, vectors=300,
                      flow="runner", verilog=broken,
                      build_root=BUILD_ROOT / "streaming-argmax-credit-early-sim")
    assert not result.passed, "the mutant passed the row bench"
    text = result.failure_text()
    assert "s_axis_tready was 0" in text and "the flow control documents 1" in text, text
    assert " expected " not in text, "the outputs should stay right"
