"""``python -m shiftmax.sim run|regress``: what ``make sim`` and ``make regress`` call.

    python -m shiftmax.sim run UNIT=argmax N=10 VALUE_BITS=7 OUTPUT=onehot SIM=icarus SEED=1
    python -m shiftmax.sim run --unit shiftmax --n 10 --value-bits 7 --seed 1
    python -m shiftmax.sim regress --sim verilator --seed 1 [--only REGEX] [--jobs 2]

``run`` takes a unit's parameters as ``make sim`` variables (``NAME=VALUE`` words: every
parameter of the unit, in capitals; see ``make sim`` in docs/simulation.md) or as the
options of ``shiftmax verilog``; ``SIM``, ``SEED``, ``VECTORS`` and ``WAVES`` (or ``--sim``,
``--seed``, ``--vectors``, ``--waves``) choose how it runs. Exits 1 when any test fails, 2 for
a bad parameter (one line naming it, nothing run).
"""

from __future__ import annotations

import argparse
import sys
import time

from shiftmax.sim.config import RUN_VARIABLES, SIMULATORS, SimConfig
from shiftmax.units import UNITS


def _positive(name: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer, not {text!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{name} must be a positive integer, not {value}")
        return value
    return parse


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"SEED must be an integer, not {text!r}") from None


def _flag(text: str) -> bool:
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"WAVES must be 0 or 1, not {text!r}")


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sim", choices=SIMULATORS, default=None,
                        help="simulator (default: icarus)")
    parser.add_argument("--seed", type=_seed, default=None,
                        help="cocotb's COCOTB_RANDOM_SEED (default: time-based, printed)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m shiftmax.sim", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="simulate one configuration",
                              formatter_class=argparse.RawDescriptionHelpFormatter,
                              description=__doc__)
    run.add_argument("--unit", choices=tuple(UNITS), default=None)
    seen = set()
    for entry in UNITS.values():
        for param in entry.params:
            if param.name not in seen:
                seen.add(param.name)
                run.add_argument(param.option, dest=f"param_{param.name}", default=None,
                                 metavar=param.variable, help=argparse.SUPPRESS)
    run.add_argument("--vectors", type=_positive("VECTORS"), default=None,
                     help="random vectors of the main stream test (default 1000)")
    run.add_argument("--waves", type=_flag, default=None)
    run.add_argument("--verilog", default=None,
                     help="simulate this Verilog file (sidecar beside it) instead of "
                          "generating one")
    run.add_argument("--ignore", default="",
                     help="make variables to ignore (the Makefile's own), space-separated")
    _add_common(run)
    regress = commands.add_parser("regress", help="run the regression matrix")
    regress.add_argument("--only", default=None,
                         help="run only configurations whose folder name matches this regex")
    regress.add_argument("--jobs", type=_positive("JOBS"), default=1)
    regress.add_argument("--scale", type=float, default=1.0,
                         help="multiply every configuration's random vector count")
    regress.add_argument("--reference", choices=("auto", "yes", "no"), default="auto",
                         help="add one configuration per reference parameter set (auto: on "
                              "Icarus only; a Verilator build costs 20-45 s each)")
    _add_common(regress)
    return parser


def _run_settings(args: argparse.Namespace) -> tuple[SimConfig, dict]:
    """The configuration and the run settings of ``run``, from variables and options."""
    variables = {}
    ignored = set(args.ignore.split())
    for word in args.variables:
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise ValueError(f"expected NAME=VALUE, not {word!r}")
        if name not in ignored:
            variables[name] = value
    if args.unit:
        variables["UNIT"] = args.unit
    for key, value in vars(args).items():
        if key.startswith("param_") and value is not None:
            variables[key[len("param_"):].upper()] = value
    entry = UNITS.get(variables.get("UNIT") or "shiftmax")
    if entry is not None:
        for name, value in entry.example.items():
            variables.setdefault(name.upper(), str(value))
    settings = {"sim": args.sim or variables.get("SIM") or "icarus",
                "seed": args.seed if args.seed is not None else
                _seed(variables["SEED"]) if variables.get("SEED") else None,
                "vectors": args.vectors if args.vectors is not None else
                _positive("VECTORS")(variables["VECTORS"]) if variables.get("VECTORS") else None,
                "waves": args.waves if args.waves is not None else
                _flag(variables.get("WAVES") or "0")}
    if settings["sim"] not in SIMULATORS:
        raise ValueError(f"SIM must be one of {', '.join(SIMULATORS)}, not {settings['sim']!r}")
    config = SimConfig.from_variables({k: v for k, v in variables.items()
                                       if k not in RUN_VARIABLES})
    return config, settings


def _require_sim_extra() -> None:
    """Import cocotb here, so that a missing ``sim`` extra is one line (see :func:`main`)."""
    import cocotb  # noqa: F401
    import cocotb_tools.runner  # noqa: F401


def run_one(args: argparse.Namespace) -> int:
    from shiftmax.sim.runner import reference_dir, rerun_command, simulate, waveform_path

    _require_sim_extra()
    try:
        config, settings = _run_settings(args)
    except (TypeError, ValueError, argparse.ArgumentTypeError) as error:
        print(f"make sim: error: {error}", file=sys.stderr)
        return 2
    seed = settings["seed"] if settings["seed"] is not None else int(time.time()) % 100_000
    sim = settings["sim"]
    print(f"{config.describe()} on {sim}, seed {seed}: build/sim/{config.name}/")
    if reference_dir() is None:
        print("no reference cases here (no tests/reference.py under the current directory): "
              "test_reference_vectors is skipped; set SHIFTMAX_SIM_TESTS_DIR to the tests/ "
              "folder of a shiftmax checkout to run them")
    result = simulate(config, simulator=sim, seed=seed, vectors=settings["vectors"],
                      waves=settings["waves"], verbose=True, verilog=args.verilog)
    print()
    for test in result.tests:
        print(f"  {test.status.upper():7s} {test.name}")
    print(f"{'PASS' if result.passed else 'FAIL'}: {result.vectors} vectors checked in "
          f"{result.seconds:.1f} s; results in {result.directory / 'results.xml'}")
    if settings["waves"]:
        print(f"waveform: {waveform_path(result.directory, sim, result.module)}")
    if not result.passed:
        print("\n" + result.failure_text())
        again = rerun_command(config, sim, seed, vectors=settings["vectors"])
        if args.verilog is not None:
            again = f"python -m shiftmax.sim run {config.make_variables()} SIM={sim} " \
                    f"SEED={seed} --verilog {args.verilog}" + \
                    (f" VECTORS={settings['vectors']}" if settings["vectors"] else "")
        print(f"\nre-run: {again}")
        return 1
    return 0


def run_regression(args: argparse.Namespace) -> int:
    from shiftmax.sim.regress import matrix, report_failures, run_matrix, select, summary_table
    from shiftmax.sim.runner import default_build_root

    _require_sim_extra()
    sim = args.sim or "icarus"
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    reference = args.reference == "yes" or (args.reference == "auto" and sim == "icarus")
    entries = select(matrix(reference=reference), args.only)
    if not entries:
        print(f"error: no configuration matches --only {args.only!r}", file=sys.stderr)
        return 2
    print(f"regression: {len(entries)} configurations on {sim}, seed {seed}")
    results = run_matrix(entries, simulator=sim, seed=seed, jobs=args.jobs, scale=args.scale)
    table = summary_table(results)
    print("\n" + table)
    default_build_root().mkdir(parents=True, exist_ok=True)
    (default_build_root() / f"regress-{sim}.txt").write_text(f"seed {seed}\n{table}\n")
    report_failures(results)
    return 0 if all(result.passed for result in results) else 1


def parse(argv: list[str]) -> argparse.Namespace:
    """The command line; ``run``'s ``NAME=VALUE`` words (make variables) may stand anywhere,
    so they are taken out before the options are parsed."""
    variables = [word for word in argv if "=" in word and not word.startswith("-")] \
        if argv[:1] == ["run"] else []
    args = build_parser().parse_args([word for word in argv if word not in variables])
    args.variables = variables
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else list(argv))
    try:
        return run_one(args) if args.command == "run" else run_regression(args)
    except ModuleNotFoundError as error:
        if error.name and error.name.split(".")[0] in ("cocotb", "cocotb_tools"):
            print("error: simulation needs the 'sim' extra: pip install 'shiftmax[sim]' "
                  f"({error.name} is not installed)", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    raise SystemExit(main())
