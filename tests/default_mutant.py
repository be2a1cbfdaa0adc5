"""A mutant of the default shiftmax's generated Verilog through the default cocotb bench.

Shared by the mutant tests (``test_mutant_*.py``): each changes one line of the generated
default design (N = 10, VB = 7) and checks that the bench's directed corner test fails on it.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import generate_verilog, simulate

__all__ = ["BUILD_ROOT", "DEFAULT", "needs_icarus", "assert_fails_directed_corners"]

BUILD_ROOT = Path(__file__).resolve().parents[1] / "build" / "mutant-pytest"
DEFAULT = SimConfig(unit="shiftmax", n=10, value_bits=7)
needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None,
                                  reason="Icarus Verilog is not installed (make iverilog)")


def assert_fails_directed_corners(name: str, mutate: Callable[[str], str]) -> None:
    """The default design with ``mutate`` applied to its Verilog (written to
    ``BUILD_ROOT/name``) fails the default bench, in ``test_directed_corners``, with an
    expected and an actual output."""
    verilog, _ = generate_verilog(DEFAULT, BUILD_ROOT / "good")
    broken = BUILD_ROOT / name / f"{verilog.stem}.v"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text(mutate(verilog.read_text()))
    shutil.copy(verilog.with_suffix(".json"), broken.with_suffix(".json"))
    result = simulate(DEFAULT, simulator="icarus", seed=1, flow="runner", verilog=broken)
    assert not result.passed, "the mutant passed the default bench"
    failed = {test.name: test.message for test in result.tests if test.status == "failed"}
    assert "test_directed_corners" in failed, result.failure_text()
    assert " expected " in failed["test_directed_corners"]
    assert " actual " in failed["test_directed_corners"]
