# amaranth: UnusedElaboratable=no
"""The row bench's s_axis_tready rules for the streaming top-K and shiftmax
(``shiftmax.sim.ready_rules``): the top-K's credits against the hardware's own numbers, the
framer's fill (the beats an early tlast left out, emitted with s_axis_tready low), and the
row bench on Icarus with the rules, once on the generated Verilog and once on mutants of it
that the rules must catch.

The streaming top-K's framer fills a row that an early tlast cut short: from the edge after
the early beat it emits the row's missing beats itself, one per edge its state moves, and
takes no beat meanwhile. In the fifo form the row's credit is taken an edge after its last
filler goes out (docs/topk.md), so the rule counts it that many edges after the early beat.
The streaming shiftmax's fill waits on its row buffer's room, which the ports do not show:
its rule only checks the shortest fill, one edge per missing beat.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from amaranth.hdl import Shape

from shiftmax.hw import StreamingTopK
from shiftmax.sim.config import SimConfig
from shiftmax.sim.ready_rules import (
    RowCreditReadyRule,
    RowEnableReadyRule,
    RowFillReadyRule,
    enable_ready,
    row_ready_rule,
    streaming_credits,
)
from shiftmax.sim.rows import RowSample
from shiftmax.sim.runner import generate_verilog, simulate

BUILD_ROOT = Path(__file__).resolve().parents[1] / "build" / "row-ready-pytest"
SEED = 4
#: R = 3: an early tlast on beat 0 leaves two beats to fill.
STREAMING_TOPK = {form: SimConfig(unit="topk", n=10, value_bits=7, k=2, lanes_per_beat=4,
                                  flow_control=form) for form in ("enable", "fifo")}

icarus = pytest.mark.skipif(shutil.which("iverilog") is None,
                            reason="Icarus Verilog is not installed (make iverilog)")


def sample(*, rst=0, s_valid=0, s_ready=0, m_valid=0, m_ready=0) -> RowSample:
    return RowSample(rst=rst, s_valid=s_valid, s_ready=s_ready, m_valid=m_valid,
                     m_ready=m_ready, m_data=0 if m_valid else None, m_last=0, m_user=0)


@pytest.mark.parametrize("params", [
    {"n": 10, "value_bits": 7, "k": 2, "lanes_per_beat": 4},
    {"n": 11, "value_bits": 5, "k": 1, "lanes_per_beat": 3, "register_every": 1, "mask": True},
    {"n": 40, "value_bits": 7, "k": 5, "lanes_per_beat": 2, "stage_registers": False},
    {"n": 197, "value_bits": 7, "k": 8, "lanes_per_beat": 16, "output": "index-value"},
], ids=["default", "p3-k1-mask", "p2-k5-no-stage-registers", "n197-p16-k8-values"])
def test_streaming_topk_credits_agree_with_the_hardware(params) -> None:
    unit = StreamingTopK(**params)
    assert unit.flow_control == "fifo"
    sidecar = {"latency": unit.latency, "beats_per_row": unit.beats_per_row}
    word = Shape.cast(unit.o.payload.shape()).width
    assert streaming_credits(sidecar) * word == unit.memory_bits


def test_rules_of_the_row_bench_for_the_streaming_topk() -> None:
    streaming = {"unit": "topk", "beats_per_row": 3, "latency": 11, "input_cycles": 1}
    fifo = row_ready_rule({**streaming, "flow_control": "fifo"})
    assert isinstance(fifo, RowCreditReadyRule) and fifo.fill and fifo.needed == 2
    assert fifo.credits == streaming_credits(streaming)
    enable = row_ready_rule({**streaming, "flow_control": "enable", "latency": 9})
    assert isinstance(enable, RowEnableReadyRule) and enable.fill
    argmax = row_ready_rule({**streaming, "unit": "argmax", "flow_control": "fifo"})
    assert isinstance(argmax, RowCreditReadyRule) and not argmax.fill
    assert row_ready_rule({**streaming, "unit": "argmax", "flow_control": "enable"}) \
        is enable_ready
    for form in ("enable", "fifo"):
        shiftmax = row_ready_rule({**streaming, "unit": "shiftmax", "flow_control": form})
        assert isinstance(shiftmax, RowFillReadyRule) and shiftmax.fill


def test_enable_rule_is_low_while_the_framer_fills_and_fills_only_under_the_enable() -> None:
    rule = RowEnableReadyRule(fill=True)
    assert rule(sample(s_valid=1, s_ready=1))  # the early beat is taken at this edge
    rule.row_formed(2)  # two beats to fill
    assert not rule(sample(m_valid=1, m_ready=0))  # stalled: no filler goes out
    assert not rule(sample())  # the first filler
    assert not rule(sample(m_valid=1, m_ready=1))  # the second, the row's last
    assert rule(sample())
    assert not rule(sample(m_valid=1))  # the enable's own term
    rule.row_formed(0)  # a full row: nothing to fill
    assert rule(sample(m_valid=1, m_ready=1))


def test_enable_rule_forgets_the_fill_at_reset() -> None:
    rule = RowEnableReadyRule(fill=True)
    rule(sample(s_valid=1, s_ready=1))
    rule.row_formed(2)
    assert not rule(sample())
    assert rule(sample(rst=1)) and rule(sample())


def test_credit_rule_takes_a_filled_rows_credit_when_its_last_filler_goes_out() -> None:
    rule = RowCreditReadyRule(2, fill=True)
    assert rule(sample(s_valid=1, s_ready=1))  # the early beat (beat 0 of 3)
    rule.row_formed(2)
    assert not rule(sample(m_valid=1, m_ready=0))  # filler 1: the framer runs freely
    assert not rule(sample())  # filler 2, the row's last beat, goes out at this edge
    assert rule(sample()) and rule.left == 2  # done filling; the row end not counted yet
    assert not rule(sample()) and rule.left == 1  # counted at the edge after the filler


def test_credit_rule_without_fill_counts_the_early_beat_as_the_rows_end() -> None:
    rule = RowCreditReadyRule(2)
    rule(sample(s_valid=1, s_ready=1))
    rule.row_formed(2)  # the argmax's framer fills nothing: its early beat ends the row
    assert rule(sample())
    assert not rule(sample()) and rule.left == 1


def test_credit_rule_with_fill_counts_a_full_row_an_edge_after_its_last_beat() -> None:
    rule = RowCreditReadyRule(2, fill=True)
    rule(sample(s_valid=1, s_ready=1))
    rule.row_formed(0)
    assert rule(sample())
    assert not rule(sample()) and rule.left == 1
    assert not rule(sample(m_valid=1, m_ready=1))  # its result leaves at this edge
    assert rule(sample()) and rule.left == 2


def test_credit_rule_forgets_a_fill_and_its_credit_at_reset() -> None:
    rule = RowCreditReadyRule(2, fill=True)
    rule(sample(s_valid=1, s_ready=1))
    rule.row_formed(1)
    assert not rule(sample())  # the one filler goes out at this edge
    assert rule(sample(rst=1))
    assert rule(sample()) and rule(sample()) and rule.left == 2


def test_fill_rule_checks_only_the_shortest_fill() -> None:
    rule = RowFillReadyRule()
    assert rule(sample(s_valid=1, s_ready=1)) is None  # the row buffer's room: not checked
    rule.row_formed(2)
    assert rule(sample()) is False and rule(sample(m_valid=1)) is False
    assert rule(sample()) is None  # the fill may go on while the row buffer is full
    rule.row_formed(0)
    assert rule(sample()) is None
    rule.row_formed(1)
    assert rule(sample(rst=1)) and rule(sample()) is None


def generated(form: str) -> tuple[Path, dict]:
    verilog, sidecar = generate_verilog(STREAMING_TOPK[form], BUILD_ROOT / f"good-topk-{form}")
    assert sidecar["unit"] == "topk" and sidecar["flow_control"] == form
    assert sidecar["beats_per_row"] == 3
    return verilog, sidecar


def run(form: str, name: str, verilog: Path):
    return simulate(STREAMING_TOPK[form], simulator="icarus", seed=SEED, vectors=150,
                    flow="runner", verilog=verilog, build_root=BUILD_ROOT / f"{name}-sim")


def broken(form: str, name: str, old: str, new: str) -> Path:
    verilog, _ = generated(form)
    text = verilog.read_text()
    assert text.count(old) == 1, f"expected one {old!r}"
    path = BUILD_ROOT / name / verilog.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, new))
    shutil.copy(verilog.with_suffix(".json"), path.with_suffix(".json"))
    return path


@icarus
@pytest.mark.parametrize("form", ["enable", "fifo"])
def test_streaming_topk_passes_the_row_bench_with_its_ready_rule(form) -> None:
    verilog, _ = generated(form)
    result = run(form, f"good-topk-{form}", verilog)
    assert result.passed, result.failure_text()
    ran = {test.name for test in result.tests if test.status == "passed"}
    assert {"test_malformed_rows_between_well_formed_ones",
            "test_one_beat_rows_back_to_back_under_backpressure",
            "test_random_rows_with_gaps_and_backpressure"} <= ran, ran


@icarus
def test_fifo_credit_flag_one_credit_early_fails_the_topk_ready_rule() -> None:
    """After a row end the flag needs three credits instead of two: no output is wrong, only
    beats the documented rule admits are refused."""
    result = run("fifo", "topk-fifo-credit-early",
                 broken("fifo", "topk-fifo-credit-early", "credits >= 2'h3;",
                        "credits >= 3'h4;"))
    assert not result.passed, "the mutant passed the row bench"
    text = result.failure_text()
    assert "s_axis_tready was 0" in text and "the flow control documents 1" in text, text
    assert " expected " not in text, "the outputs should stay right"


@icarus
def test_enable_fill_that_keeps_ready_high_fails_the_topk_ready_rule() -> None:
    """The framer's ready without its fill term: beats are taken while it fills."""
    result = run("enable", "topk-enable-fill-ready",
                 broken("enable", "topk-enable-fill-ready", "assign i__ready = \\$2 ;",
                        "assign i__ready = 1'h1;"))
    assert not result.passed, "the mutant passed the row bench"
    text = result.failure_text()
    assert "s_axis_tready was 1" in text and "the flow control documents 0" in text, text


#: The bench's small streaming shiftmax (R = 3), fifo form.
STREAMING_SHIFTMAX = SimConfig("shiftmax", n=10, value_bits=7, exp_bitwidth=4,
                               buffer_bitwidth=12, lanes_per_beat=4)


@icarus
def test_streaming_shiftmax_passes_the_row_bench_with_its_fill_rule() -> None:
    verilog, _ = generate_verilog(STREAMING_SHIFTMAX, BUILD_ROOT / "good-shiftmax")
    result = simulate(STREAMING_SHIFTMAX, simulator="icarus", seed=SEED, vectors=150,
                      flow="runner", verilog=verilog, build_root=BUILD_ROOT / "good-shiftmax-sim")
    assert result.passed, result.failure_text()
    ran = {test.name for test in result.tests if test.status == "passed"}
    assert {"test_malformed_rows_between_well_formed_ones",
            "test_one_beat_rows_back_to_back_under_backpressure"} <= ran, ran


@icarus
def test_streaming_shiftmax_fill_that_keeps_ready_high_fails_its_fill_rule() -> None:
    """The streaming shiftmax's framer without the fill term of its ready: beats are taken
    while it fills, which its rule (low on the shortest fill) sees."""
    verilog, sidecar = generate_verilog(STREAMING_SHIFTMAX, BUILD_ROOT / "good-shiftmax")
    assert sidecar["unit"] == "shiftmax" and sidecar["beats_per_row"] == 3
    old = "assign i__ready = space & \\$2 ;"
    text = verilog.read_text()
    assert text.count(old) == 1, f"expected one {old!r}"
    path = BUILD_ROOT / "shiftmax-fill-ready" / verilog.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(old, "assign i__ready = space;"))
    shutil.copy(verilog.with_suffix(".json"), path.with_suffix(".json"))
    result = simulate(STREAMING_SHIFTMAX, simulator="icarus", seed=SEED, vectors=150,
                      flow="runner", verilog=path,
                      build_root=BUILD_ROOT / "shiftmax-fill-ready-sim")
    assert not result.passed, "the mutant passed the row bench"
    text = result.failure_text()
    assert "s_axis_tready was 1" in text and "the flow control documents 0" in text, text
