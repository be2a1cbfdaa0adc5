# amaranth: UnusedElaboratable=no
"""The ``shiftmax`` command line: ``shiftmax verilog UNIT ... -o OUT.v``.

Every unit subcommand and option comes from the registry (:mod:`shiftmax.units`). Amaranth is
imported only when a unit is built, so ``import shiftmax`` stays numpy-only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from shiftmax.units import UNITS, Param, Unit

__all__ = ["main", "build_parser", "check_output_path"]

#: ``--help`` sections, in order, for the registry's parameter groups.
GROUPS = {"row": "row and interface", "arithmetic": "arithmetic", "pipeline": "pipeline"}


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Wide enough for the option names; help texts already carry their defaults."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)


def _option_type(param: Param):
    """argparse ``type=`` for a registry parameter: its own parser, errors naming it."""
    def parse(text: str):
        try:
            return param.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    parse.__name__ = param.name
    return parse


def _add_param(group, param: Param) -> None:
    common = {"dest": param.name, "help": param.describe()}
    if param.kind == "bool":
        group.add_argument(param.option, action=argparse.BooleanOptionalAction,
                           default=argparse.SUPPRESS, **common)
    elif param.kind == "choice":
        group.add_argument(param.option, choices=param.choices, default=argparse.SUPPRESS,
                           **common)
    else:
        group.add_argument(param.option, type=_option_type(param), default=argparse.SUPPRESS,
                           metavar=param.metavar or param.name.upper(),
                           required=param.required, **common)


def _add_unit(units, unit: Unit) -> None:
    parser = units.add_parser(unit.name, help=unit.summary, description=unit.description,
                              formatter_class=_Formatter)
    groups = {key: parser.add_argument_group(title) for key, title in GROUPS.items()}
    for param in unit.params:
        _add_param(groups[param.group], param)
    output = parser.add_argument_group("output")
    output.add_argument("--name", default=unit.name, metavar="MODULE",
                        help=f"Verilog module name: a plain identifier, not a keyword "
                             f"(default: {unit.name})")
    output.add_argument("-o", "--output-file", required=True, metavar="OUT.v", dest="out",
                        help="Verilog file to write (required); the sidecar JSON (module, "
                             "unit, latency, params, port widths) goes to OUT.json beside it; "
                             "the directory is created if needed")
    output.add_argument("--formal", action="store_true",
                        help="the formal build (what make formal proves): the flow-control "
                             "invariants as assertions, and the ports formal_* through "
                             "which the property module reads the rows held and names the "
                             "row it tracks")
    output.add_argument("--core", action="store_true",
                        help="also write a FuseSoC CAPI2 core OUT.core beside it (VLNV "
                             "shiftmax:ip:MODULE:VERSION, targets default, lint and sim)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shiftmax`` command."""
    parser = argparse.ArgumentParser(
        prog="shiftmax",
        description="Generate bit-exact shiftmax, argmax and top-K hardware "
                    "(AXI4-Stream Verilog).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verilog = commands.add_parser(
        "verilog", help="write a unit as Verilog plus its sidecar JSON",
        description="Write a unit as Verilog-2001 (ports clk, rst, s_axis_*, m_axis_*) and a "
                    "sidecar OUT.json with its latency, parameters and port widths. "
                    "`shiftmax verilog UNIT --help` lists a unit's options.")
    units = verilog.add_subparsers(dest="unit", required=True, metavar="UNIT")
    for unit in UNITS.values():
        _add_unit(units, unit)
    return parser


def check_output_path(text: str) -> Path:
    """``-o OUT.v`` checked before anything is built: a file path ending in ``.v`` whose
    sidecar ``OUT.json`` is not a directory. Raises ValueError naming ``-o``."""
    if not text or not text.strip():
        raise ValueError("-o must name a Verilog file such as build/unit.v, not an empty path")
    path = Path(text)
    if text.endswith(("/", "\\")) or path.is_dir() or path.name in (".", ".."):
        raise ValueError(f"-o must name a Verilog file, not the directory {text!r}")
    if path.suffix != ".v":
        raise ValueError(f"-o must end in .v (the sidecar goes to the same path with .json), "
                         f"not {text!r}")
    sidecar = path.with_suffix(".json")
    if sidecar.is_dir():
        raise ValueError(f"-o {text}: the sidecar path {sidecar} is a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"-o {text}: {parent} is a file, not a directory")
            break
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (2 for bad parameters, like argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    unit = UNITS[args.unit]
    given = {p.name: getattr(args, p.name) for p in unit.params if hasattr(args, p.name)}
    prefix = f"shiftmax verilog {unit.name}: error:"
    try:
        out = check_output_path(args.out)
        from shiftmax.hw.fusesoc import write_core
        from shiftmax.hw.verilog import emit_verilog, write_files  # Amaranth from here on

        text, meta = emit_verilog(unit.build(**given), name=args.name, formal=args.formal)
    except (TypeError, ValueError) as error:
        parser.exit(2, f"{prefix} {error}\n")
    except ImportError as error:
        parser.exit(1, f"{prefix} {error}\n")
    try:
        json_path = write_files(out, text, meta)
        core_path = write_core(meta, out) if args.core else None
    except OSError as error:
        parser.exit(1, f"{prefix} cannot write {out}: {error.strerror or error}\n")
    files = f"{out}, {json_path} and {core_path}" if core_path else f"{out} and {json_path}"
    print(f"wrote {files}: {unit.name} module {meta['module']}, "
          f"latency {meta['latency']} cycles")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
