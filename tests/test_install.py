"""A built wheel, installed on its own and used from a folder outside the repository.

The wheel goes into a private ``--target`` folder put first on ``PYTHONPATH``; its
dependencies come from the test's environment. Every command runs with a temporary folder as
its working directory, so a path computed from the repository (or written into the
installation) shows up as a missing file or a file in the wrong place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
BUILD = REPOSITORY / "build" / "install-test"


@pytest.fixture(scope="module")
def installed() -> Path:
    """The wheel's files installed into a folder of their own; returns that folder."""
    shutil.rmtree(BUILD, ignore_errors=True)
    wheels = BUILD / "wheel"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet",
                            "-w", str(wheels), str(REPOSITORY)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.fail(f"pip wheel failed:\n{built.stderr[-3000:]}", pytrace=False)
    (wheel,) = wheels.glob("shiftmax-*.whl")
    site = BUILD / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                           "--target", str(site), str(wheel)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return site


def run(site: Path, cwd: Path, *args: str, extra_path: Path | None = None
        ) -> subprocess.CompletedProcess:
    path = [str(p) for p in (extra_path, site) if p is not None]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    env.pop("SHIFTMAX_SIM_TESTS_DIR", None)
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd,
                          env=env)


def test_wheel_holds_the_license_and_every_package(installed: Path) -> None:
    (wheel,) = (BUILD / "wheel").glob("shiftmax-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith("licenses/LICENSE") or name.endswith("/LICENSE") for name in names)
    for module in ("shiftmax/units.py", "shiftmax/golden/shiftmax.py", "shiftmax/hw/verilog.py",
                   "shiftmax/sim/unit_tests.py"):
        assert module in names, module


def test_installed_package_is_the_one_imported(installed: Path, tmp_path: Path) -> None:
    where = run(installed, tmp_path, "-c", "import shiftmax.hw; print(shiftmax.hw.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(installed)


def test_verilog_from_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    done = run(installed, tmp_path, "-m", "shiftmax", "verilog", "argmax", "--n", "4",
               "--value-bits", "3", "-o", "out/argmax.v")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "argmax.v").exists() and (tmp_path / "out" / "argmax.json").exists()
    assert not list(installed.rglob("*.v"))


def test_simulation_from_outside_the_repository_writes_under_its_build(
        installed: Path, tmp_path: Path) -> None:
    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog is not installed (make iverilog)")
    done = run(installed, tmp_path, "-m", "shiftmax.sim", "run", "UNIT=argmax", "N=3",
               "VALUE_BITS=2", "VECTORS=50", "SEED=1")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "PASS" in done.stdout
    assert "no reference cases" in done.stdout  # said clearly, not silently skipped
    assert list((tmp_path / "build" / "sim").glob("argmax-*/icarus/results.xml"))
    assert not (installed / "build").exists()


def test_missing_sim_extra_is_one_line_naming_it(installed: Path, tmp_path: Path) -> None:
    # A cocotb that cannot be imported, first on the path: as if the extra were not installed.
    blocker = tmp_path / "blocker" / "cocotb"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'cocotb'\", name='cocotb')\n")
    done = run(installed, tmp_path, "-m", "shiftmax.sim", "run", "UNIT=argmax", "N=3",
               "VALUE_BITS=2", extra_path=tmp_path / "blocker")
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "'sim' extra" in lines[0], done.stderr
