"""``python -m shiftmax.sim run`` (what ``make sim`` calls): parameters, errors, re-run lines."""

from __future__ import annotations

import subprocess
import sys

import pytest

from shiftmax.sim.__main__ import _run_settings, parse
from shiftmax.sim.runner import rerun_command


def settings(*words: str):
    return _run_settings(parse(["run", *words]))


@pytest.mark.parametrize("words", [
    ("--unit", "argmax", "--n", "4", "--value-bits", "3", "--seed", "2", "--vectors", "5"),
    ("UNIT=argmax", "N=4", "VALUE_BITS=3", "SEED=2", "VECTORS=5"),
    ("UNIT=argmax", "N=4", "VALUE_BITS=3", "--seed=2", "VECTORS=5"),
])
def test_rerun_line_repeats_the_run_in_every_spelling(words) -> None:
    config, run = settings(*words)
    line = rerun_command(config, run["sim"], run["seed"], vectors=run["vectors"])
    assert line == "make sim UNIT=argmax N=4 VALUE_BITS=3 SIM=icarus SEED=2 VECTORS=5"
    again, same = settings(*line.split()[2:])
    assert (again, same) == (config, run)


def test_make_sim_without_a_configuration_builds_the_example() -> None:
    config, run = settings()
    assert (config.unit, config.n, config.value_bits) == ("shiftmax", 10, 7)
    assert run == {"sim": "icarus", "seed": None, "vectors": None, "waves": False}


def test_makefile_variables_are_ignored_when_named() -> None:
    config, _ = settings("UNIT=argmax", "N=4", "VALUE_BITS=3", "JOBS=2", "--ignore", "JOBS")
    assert config.unit == "argmax"


@pytest.mark.parametrize("words, message", [
    (("UNIT=argmax", "N=1"), "n must be at least 2, not 1"),
    (("UNIT=argmax", "N=4", "VECTORS=-5"), "VECTORS must be a positive integer, not -5"),
    (("UNIT=argmax", "N=4", "FRAC_BITS=3"), "FRAC_BITS=3 is not a parameter of argmax"),
    (("UNIT=softmax",), "unit must be one of"),
    (("UNIT=shiftmax", "SIM=modelsim"), "SIM must be one of icarus, verilator"),
    (("UNIT=shiftmax", "EXP_BITWIDTH=ten"), "exp_bitwidth must be an integer"),
])
def test_bad_parameters_exit_2_with_one_line_and_no_rerun(words, message) -> None:
    done = subprocess.run([sys.executable, "-m", "shiftmax.sim", "run", *words],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "re-run" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], done.stderr
