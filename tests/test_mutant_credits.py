"""A lost credit in the fifo form fails the default bench, though the outputs stay right.

The fifo form admits a beat while a credit is left (``s_axis_tready``); its credits are a
thermometer code that shifts in a one when a result leaves (a credit returned). With a zero
shifted in instead (a ``make mutate`` constant mutant) the returned credit is lost and the
flag falls while credits are left: no output is wrong, beats are only refused that the
documented rule (``shiftmax.sim.ready_rules.CreditReadyRule``) admits. Before the benches
checked that rule, ``make mutate``'s credit mutants of this kind survived.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import generate_verilog, simulate

pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None,
                                reason="Icarus Verilog is not installed (make iverilog)")

BUILD_ROOT = Path(__file__).resolve().parents[1] / "build" / "mutant-pytest"
ARGMAX = SimConfig(unit="argmax", n=10, value_bits=7)


def lose_a_credit(verilog: str) -> str:
    """A returned credit shifts a zero into the credits code instead of a one."""
    pattern = re.compile(r"(released \? \{ credits\[\d+:0\], )1'h1( \})")
    assert len(pattern.findall(verilog)) == 1, "expected one credit-return shift"
    return pattern.sub(r"\g<1>1'h0\g<2>", verilog)


def test_lost_credit_fails_the_ready_rule() -> None:
    verilog, sidecar = generate_verilog(ARGMAX, BUILD_ROOT / "good-argmax")
    assert sidecar["flow_control"] == "fifo"
    broken = BUILD_ROOT / "argmax-credit-lost" / verilog.name
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(lose_a_credit(verilog.read_text()))
    shutil.copy(verilog.with_suffix(".json"), broken.with_suffix(".json"))
    result = simulate(ARGMAX, simulator="icarus", seed=1, flow="runner", verilog=broken)
    assert not result.passed, "the mutant passed the default bench"
    text = result.failure_text()
    assert "s_axis_tready was 0" in text and "the flow control documents 1" in text, text
    assert " expected " not in text, "the outputs should stay right"
