"""Simulated vectors per second of the cocotb bench on Icarus and Verilator (``make bench-sim``).

Streams random vectors through one generated configuration with tvalid and tready held high
(one vector per clock), every output still checked against the golden model, and prints a
table: build and start-up time, streaming time, and vectors per second while streaming and
end to end. Not a test: nothing here asserts a speed.

    python tools/bench_sim.py [--vectors 20000] [--sims icarus,verilator] [--n 10 ...]
"""

from __future__ import annotations

import argparse
import json
import sys

from shiftmax.sim.config import SIMULATORS, SimConfig
from shiftmax.sim.runner import default_build_root, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=20000)
    parser.add_argument("--sims", default=",".join(SIMULATORS),
                        help="comma-separated simulators (default: icarus,verilator)")
    parser.add_argument("--unit", default="shiftmax")
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--value-bits", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    config = SimConfig(unit=args.unit, n=args.n, value_bits=args.value_bits)
    rows = []
    for simulator in args.sims.split(","):
        print(f"{simulator}: {config.describe()}, {args.vectors} vectors ...", flush=True)
        result = simulate(config, simulator=simulator, seed=args.seed,
                          build_root=default_build_root() / "bench",
                          extra_env={"SHIFTMAX_SIM_BENCH_VECTORS": str(args.vectors),
                                     "COCOTB_TEST_FILTER": "bench_full_throughput"},
                          verilator_opt="-Os")  # Verilator's default: the speed users see
        if not result.passed:
            print(f"{simulator} FAILED:\n{result.failure_text()}", file=sys.stderr)
            return 1
        report = result.directory / "vectors.jsonl"
        stream = [json.loads(line) for line in report.read_text().splitlines() if line][-1]
        rows.append((simulator, stream["checked"], result.seconds - stream["seconds"],
                     stream["seconds"], stream["checked"] / stream["seconds"],
                     stream["checked"] / result.seconds))
    print(f"\n{config.describe()}, tvalid and tready held high, every output checked\n")
    header = ("simulator", "vectors", "build+start s", "stream s", "vectors/s (stream)",
              "vectors/s (end to end)")
    print(" | ".join(header))
    print(" | ".join("-" * len(h) for h in header))
    for sim, count, setup, stream_s, rate, overall in rows:
        print(f"{sim:9s} | {count:7d} | {setup:13.1f} | {stream_s:8.1f} | {rate:18.0f} | "
              f"{overall:22.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
