"""``python -m shiftmax.sim run|regress``: what ``make sim`` and ``make regress`` call.

    python -m shiftmax.sim run --unit shiftmax --n 10 --value-bits 7 --sim icarus --seed 1
    python -m shiftmax.sim regress --sim verilator --seed 1 [--only REGEX] [--jobs 2]

Empty option values (``--exp-bitwidth ''``, as make passes an unset variable) mean the
generator's default. Exits 1 when any test fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from shiftmax.sim.config import SIMULATORS, UNITS, SimConfig, parse_frac_bits
from shiftmax.sim.regress import (
    matrix,
    report_failures,
    run_matrix,
    select,
    summary_table,
)
from shiftmax.sim.runner import BUILD_ROOT, rerun_command, simulate, waveform_path


def _optional(convert):
    def parse(text: str):
        return None if text == "" else convert(text)
    parse.__name__ = convert.__name__
    return parse


def _flag(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected 0 or 1, not {text!r}")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim", choices=SIMULATORS, default="icarus")
    parser.add_argument("--seed", type=_optional(int), default=None,
                        help="cocotb's COCOTB_RANDOM_SEED (default: time-based, printed)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shiftmax.sim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="simulate one configuration")
    run.add_argument("--unit", choices=UNITS, default="shiftmax")
    run.add_argument("--n", type=int, required=True)
    run.add_argument("--value-bits", type=int, required=True)
    run.add_argument("--frac-bits", type=_optional(parse_frac_bits), default=None)
    run.add_argument("--exp-bitwidth", type=_optional(int), default=None)
    run.add_argument("--buffer-bitwidth", type=_optional(int), default=None)
    run.add_argument("--round-log2", type=_optional(str), default=None)
    run.add_argument("--output", type=_optional(str), default=None)
    run.add_argument("--register-every", type=_optional(int), default=None)
    run.add_argument("--stage-registers", type=_optional(_flag), default=None)
    run.add_argument("--lanes-per-cycle", type=_optional(int), default=None,
                     help="argmax: fold to this many lanes per cycle")
    run.add_argument("--vectors", type=_optional(int), default=None,
                     help="random vectors of the main stream test (default 1000)")
    run.add_argument("--waves", type=_optional(_flag), default=False)
    run.add_argument("--verilog", type=Path, default=None,
                     help="simulate this Verilog file (sidecar beside it) instead of "
                          "generating one")
    _add_common(run)
    regress = commands.add_parser("regress", help="run the regression matrix")
    regress.add_argument("--only", default=None,
                         help="run only configurations whose folder name matches this regex")
    regress.add_argument("--jobs", type=int, default=1)
    regress.add_argument("--scale", type=float, default=1.0,
                         help="multiply every configuration's random vector count")
    regress.add_argument("--reference", choices=("auto", "yes", "no"), default="auto",
                         help="add one configuration per reference parameter set (auto: on "
                              "Icarus only; a Verilator build costs 20-45 s each)")
    _add_common(regress)
    return parser


def run_one(args: argparse.Namespace) -> int:
    frac = args.frac_bits if args.frac_bits is not None else 0
    try:
        config = SimConfig(unit=args.unit, n=args.n, value_bits=args.value_bits,
                           frac_bits=frac if args.unit == "shiftmax" else 0,
                           exp_bitwidth=args.exp_bitwidth, buffer_bitwidth=args.buffer_bitwidth,
                           round_log2=args.round_log2, output=args.output,
                           register_every=args.register_every,
                           stage_registers=args.stage_registers,
                           lanes_per_cycle=args.lanes_per_cycle)
    except (TypeError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    print(f"{config.describe()} on {args.sim}, seed {seed}: build/sim/{config.name}/")
    result = simulate(config, simulator=args.sim, seed=seed, vectors=args.vectors,
                      waves=args.waves, verbose=True, verilog=args.verilog)
    print()
    for test in result.tests:
        print(f"  {test.status.upper():7s} {test.name}")
    print(f"{'PASS' if result.passed else 'FAIL'}: {result.vectors} vectors checked in "
          f"{result.seconds:.1f} s; results in {result.directory / 'results.xml'}")
    if args.waves:
        print(f"waveform: {waveform_path(result.directory, args.sim, result.module)}")
    if not result.passed:
        print("\n" + result.failure_text())
        again = rerun_command(config, args.sim, seed) if args.verilog is None else \
            f"python -m shiftmax.sim {' '.join(a for a in sys.argv[1:] if '--seed' not in a)} " \
            f"--seed={seed}"
        print(f"\nre-run: {again}")
        return 1
    return 0


def run_regression(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    reference = args.reference == "yes" or (args.reference == "auto" and args.sim == "icarus")
    entries = select(matrix(reference=reference), args.only)
    if not entries:
        print(f"error: no configuration matches --only {args.only!r}", file=sys.stderr)
        return 2
    print(f"regression: {len(entries)} configurations on {args.sim}, seed {seed}")
    results = run_matrix(entries, simulator=args.sim, seed=seed, jobs=args.jobs,
                         scale=args.scale)
    table = summary_table(results)
    print("\n" + table)
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    (BUILD_ROOT / f"regress-{args.sim}.txt").write_text(f"seed {seed}\n{table}\n")
    report_failures(results)
    return 0 if all(result.passed for result in results) else 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_one(args) if args.command == "run" else run_regression(args)


if __name__ == "__main__":
    raise SystemExit(main())
