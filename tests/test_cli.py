"""The ``shiftmax verilog`` command: files, sidecar, help, and clean errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shiftmax.cli import main

BIN = Path(sys.executable).parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "shiftmax", *args], capture_output=True,
                          text=True)


def test_shiftmax_writes_verilog_and_sidecar(tmp_path, capsys):
    out = tmp_path / "new" / "dir" / "smax.v"
    assert main(["verilog", "shiftmax", "--n", "4", "--value-bits", "7",
                 "--frac-bits=-2,1,0,3", "--exp-bitwidth", "4", "--buffer-bitwidth", "12",
                 "--round-log2", "quantizeml", "--name", "smax", "--register-every", "1",
                 "--no-stage-registers", "-o", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["module"] == "smax" and meta["unit"] == "shiftmax"
    assert meta["params"] == {"n": 4, "value_bits": 7, "frac_bits": [-2, 1, 0, 3],
                              "exp_bitwidth": 4, "buffer_bitwidth": 12,
                              "round_log2": "quantizeml", "register_every": 1,
                              "stage_registers": False, "flow_control": "fifo",
                              "lanes_per_beat": 4, "mask": False}
    assert meta["ports"]["s_axis_tdata"] == 32 and meta["ports"]["m_axis_tdata"] == 20
    assert "module smax(" in out.read_text()
    summary = capsys.readouterr().out.strip().splitlines()
    assert len(summary) == 1 and str(out) in summary[0] and f"latency {meta['latency']}" in \
        summary[0]


def test_defaults_follow_quantizeml(tmp_path):
    out = tmp_path / "shiftmax.v"
    assert main(["verilog", "shiftmax", "--n", "10", "--value-bits", "7", "-o", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["module"] == "shiftmax"
    assert {k: meta["params"][k] for k in ("frac_bits", "exp_bitwidth", "buffer_bitwidth",
                                           "round_log2")} == \
        {"frac_bits": 0, "exp_bitwidth": 10, "buffer_bitwidth": 32, "round_log2": "exact"}
    assert meta["ports"]["m_axis_tdata"] == 110


def test_argmax_onehot(tmp_path):
    out = tmp_path / "am.v"
    assert main(["verilog", "argmax", "--n", "10", "--value-bits", "7", "--output", "onehot",
                 "-o", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["module"] == "argmax" and meta["ports"]["m_axis_tdata"] == 10
    assert meta["params"]["output"] == "onehot"
    assert meta["input_cycles"] == 1 and meta["params"]["lanes_per_cycle"] == 10


def test_argmax_folded(tmp_path):
    out = tmp_path / "am.v"
    assert main(["verilog", "argmax", "--n", "10", "--value-bits", "15", "--lanes-per-cycle",
                 "2", "-o", str(out)]) == 0
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["input_cycles"] == 5 and meta["params"]["lanes_per_cycle"] == 2


@pytest.mark.parametrize("args, names", [
    (["shiftmax", "--n", "4", "--value-bits", "7", "--exp-bitwidth", "10",
      "--buffer-bitwidth", "20"], ["buffer_bitwidth", "20"]),
    (["shiftmax", "--n", "3", "--value-bits", "7", "--frac-bits=-2,1"], ["frac_bits"]),
    (["shiftmax", "--n", "3", "--value-bits", "7", "--frac-bits=1,x,2"], ["frac_bits"]),
    (["shiftmax", "--n", "0", "--value-bits", "7"], ["n", "0"]),
    (["argmax", "--n", "1", "--value-bits", "7"], ["n", "1"]),
    (["argmax", "--n", "4", "--value-bits", "40"], ["value_bits", "40"]),
    (["argmax", "--n", "4", "--value-bits", "7", "--register-every", "-1"],
     ["register_every", "-1"]),
    (["argmax", "--n", "4", "--value-bits", "7", "--name", "9lives"], ["name", "9lives"]),
    (["argmax", "--n", "4", "--value-bits", "7", "--name", "module"], ["name", "keyword"]),
    (["argmax", "--n", "4", "--value-bits", "7", "--name", "logic"], ["name", "'logic'"]),
    (["argmax", "--n", "4", "--value-bits", "7", "--name", "a b"], ["name", "'a b'"]),
    (["argmax", "--n", "4", "--value-bits", "7", "--lanes-per-cycle", "5"],
     ["lanes_per_cycle", "5"]),
])
def test_bad_parameters_exit_2_without_traceback_or_files(tmp_path, args, names):
    out = tmp_path / "out" / "x.v"
    result = run_cli("verilog", *args, "-o", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert all(name in last for name in names), last
    assert not (tmp_path / "out").exists()


def test_help_explains_every_option_and_default():
    result = run_cli("verilog", "shiftmax", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option in ("--n", "--value-bits", "--frac-bits", "--exp-bitwidth", "--buffer-bitwidth",
                   "--round-log2", "--name", "--register-every", "--stage-registers", "-o"):
        assert option in text
    for default in ("(default: 10)", "(default: 32)", "(default: exact)", "(default: 0)",
                    "(default: 2)", "(default: on)", "(default: shiftmax)"):
        assert default in text
    assert "(default: None)" not in text and "--n N lanes of a row (elements per vector); at " \
        "least 1 (required)" in text
    assert "sign NOT counted" in text
    argmax_help = " ".join(run_cli("verilog", "argmax", "--help").stdout.split())
    assert "(default: index)" in argmax_help and "(default: argmax)" in argmax_help
    assert "--lanes-per-cycle" in argmax_help


@pytest.mark.parametrize("output, words", [
    ("o/foo.json", ["-o", "must end in .v", "foo.json"]),
    ("", ["-o", "empty"]),
    (".", ["-o", "directory"]),
    ("o/", ["-o", "directory"]),
])
def test_bad_output_paths_exit_2_naming_the_option(tmp_path, output, words):
    result = subprocess.run([sys.executable, "-m", "shiftmax", "verilog", "argmax", "--n", "3",
                             "--value-bits", "2", "-o", output], capture_output=True, text=True,
                            cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert all(word in last for word in words), last
    assert not any(tmp_path.iterdir())


def test_sidecar_path_that_is_a_directory_is_refused_before_writing(tmp_path):
    (tmp_path / "unit.json").mkdir()
    result = run_cli("verilog", "argmax", "--n", "3", "--value-bits", "2",
                     "-o", str(tmp_path / "unit.v"))
    assert result.returncode == 2
    assert "unit.json" in result.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "unit.v").exists()


def test_console_script_and_import_stays_light(tmp_path):
    script = BIN / "shiftmax"
    if script.exists():
        result = subprocess.run([str(script), "verilog", "argmax", "--n", "3", "--value-bits",
                                 "2", "-o", str(tmp_path / "a.v")], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "a.json").exists()
    probe = subprocess.run([sys.executable, "-c", "import sys, shiftmax, shiftmax.cli; "
                            "print('amaranth' in sys.modules)"], capture_output=True, text=True)
    assert probe.stdout.strip() == "False"
