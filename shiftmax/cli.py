# amaranth: UnusedElaboratable=no
"""The ``shiftmax`` command line: ``shiftmax verilog shiftmax|argmax ... -o OUT.v``.

Amaranth is imported only inside the command, so ``import shiftmax`` stays numpy-only.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main", "build_parser"]

#: Defaults of the pipelining options (the same as the hardware classes').
DEFAULT_REGISTER_EVERY = 2
DEFAULT_STAGE_REGISTERS = True


def _frac_bits(text: str) -> int | list[int]:
    """``--frac-bits``: one integer, or a comma-separated list with one integer per lane."""
    items = [item.strip() for item in text.split(",")]
    try:
        values = [int(item) for item in items]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"frac_bits must be an integer or a comma-separated list of integers, "
            f"not {text!r}") from None
    return values[0] if len(values) == 1 and "," not in text else values


def _add_common(parser: argparse.ArgumentParser, unit: str) -> None:
    parser.add_argument("--n", type=int, required=True, metavar="N",
                        help="number of lanes (inputs per beat); at least "
                             f"{1 if unit == 'shiftmax' else 2}")
    parser.add_argument("--value-bits", type=int, required=True, metavar="VB",
                        help="magnitude bits of an input lane, sign NOT counted (quantizeml's "
                             "value_bits): each lane is VB+1 bits of two's complement, "
                             "range [-2**VB, 2**VB - 1]; 1 to 31")


def _add_pipeline(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("pipeline options")
    group.add_argument("--register-every", type=int, default=DEFAULT_REGISTER_EVERY,
                       metavar="K",
                       help="a pipeline register after every K levels of each reduction tree "
                            "(0: trees purely combinational)")
    group.add_argument("--stage-registers", action=argparse.BooleanOptionalAction,
                       default=DEFAULT_STAGE_REGISTERS,
                       help="a register between consecutive stages of the unit (the output is "
                            "always registered)")


def _add_output(parser: argparse.ArgumentParser, unit: str) -> None:
    parser.add_argument("--name", default=unit, metavar="MODULE",
                        help="Verilog module name")
    parser.add_argument("-o", "--output-file", required=True, metavar="OUT.v", dest="out",
                        help="Verilog file to write; the sidecar JSON (module, unit, latency, "
                             "params, port widths) goes to OUT.json beside it; the directory "
                             "is created if needed")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``shiftmax`` command."""
    parser = argparse.ArgumentParser(
        prog="shiftmax",
        description="Generate bit-exact shiftmax / argmax hardware (AXI4-Stream Verilog).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verilog = commands.add_parser(
        "verilog", help="write a unit as Verilog plus its sidecar JSON",
        description="Write a unit as Verilog-2001 (ports clk, rst, s_axis_*, m_axis_*) and a "
                    "sidecar OUT.json with its latency, parameters and port widths.")
    units = verilog.add_subparsers(dest="unit", required=True, metavar="UNIT")

    shiftmax = units.add_parser(
        "shiftmax", help="quantized shiftmax (quantizeml 0.17.1 / akida 2.14 bit for bit)",
        description="Quantized shiftmax over N lanes. Output lane k is E+1 bits, unsigned, "
                    "with E fractional bits (2**E means 1.0).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_common(shiftmax, "shiftmax")
    shiftmax.add_argument("--frac-bits", type=_frac_bits, default=0, metavar="F",
                          help="fractional bits of the input: one integer for all lanes or a "
                               "comma-separated list, one per lane (e.g. --frac-bits=-2,1); "
                               "negative values scale up; -31 to 31")
    shiftmax.add_argument("--exp-bitwidth", type=int, default=10, metavar="E",
                          help="exponent/output precision: output frac_bits, exponent terms "
                               "are 2**(2E - d)")
    shiftmax.add_argument("--buffer-bitwidth", type=int, default=32, metavar="B",
                          help="signed sum buffer width, sign included: the sum saturates at "
                               "2**(B-1) - 1; at least 2E+2")
    shiftmax.add_argument("--round-log2", choices=("exact", "quantizeml"), default="exact",
                          help="rounding of log2(sum): 'exact' (akida 2.14, nearest power of "
                               "two) or 'quantizeml' (quantizeml 0.17.1's float32 thresholds)")
    _add_output(shiftmax, "shiftmax")
    _add_pipeline(shiftmax)

    argmax = units.add_parser(
        "argmax", help="index (or one-hot) of the largest lane, lowest index on ties",
        description="argmax over N signed lanes. Output: the index, max(1, ceil(log2 N)) bits, "
                    "or a one-hot word of N bits.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    _add_common(argmax, "argmax")
    argmax.add_argument("--output", choices=("index", "onehot"), default="index",
                        help="result form: the lane index, or one-hot (bit k for lane k)")
    _add_output(argmax, "argmax")
    _add_pipeline(argmax)
    argmax.add_argument("--lanes-per-cycle", type=int, default=None, metavar="P",
                        help="fold the unit: compare P lanes per cycle and take a new vector "
                             "every ceil(N/P) cycles, holding s_axis_tready low meanwhile "
                             "(smaller, FINN-style); None: all N lanes, one vector per cycle")
    return parser


def _build_unit(args: argparse.Namespace):
    from shiftmax.hw import Argmax, Shiftmax  # Amaranth is imported only here

    pipeline = {"register_every": args.register_every, "stage_registers": args.stage_registers}
    if args.unit == "shiftmax":
        return Shiftmax(n=args.n, value_bits=args.value_bits, frac_bits=args.frac_bits,
                        exp_bitwidth=args.exp_bitwidth, buffer_bitwidth=args.buffer_bitwidth,
                        round_log2=args.round_log2, **pipeline)
    return Argmax(n=args.n, value_bits=args.value_bits, output=args.output,
                  lanes_per_cycle=args.lanes_per_cycle, **pipeline)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (2 for bad parameters, like argparse)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from shiftmax.hw.verilog import emit_verilog, write_files

    try:
        unit = _build_unit(args)
        text, meta = emit_verilog(unit, name=args.name)
    except (TypeError, ValueError) as error:
        parser.exit(2, f"shiftmax verilog {args.unit}: error: {error}\n")
    try:
        json_path = write_files(args.out, text, meta)
    except OSError as error:
        parser.exit(1, f"shiftmax verilog {args.unit}: error: cannot write {args.out}: "
                       f"{error.strerror or error}\n")
    print(f"wrote {args.out} and {json_path}: {args.unit} module {meta['module']}, "
          f"latency {meta['latency']} cycles")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
