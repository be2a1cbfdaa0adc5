#!/usr/bin/env python3
"""Accuracy of the bit-exact shiftmax against float softmax, over random logits.

    make accuracy        # or: python tools/accuracy.py [--out build/report] [--seed 0]

Logits are drawn from a normal distribution (one spread per table row), quantized the way an
``ap_fixed<VB+1, VB+1-F>`` layer output would be (floor to ``F`` fractional bits, saturate to
``VB`` magnitude bits; default VB=15, F=10, i.e. ap_fixed<16,6>), and run through the golden
model (``shiftmax.golden.quantized_shiftmax``, default E=10, B=32, round_log2="exact", the
arithmetic the hardware implements bit for bit). Its outputs (``out / 2**E``) are compared with
float softmax of the unquantized logits, and with quantizeml's float ``shiftmax`` of the same
logits (the power-of-two approximation without any hardware rounding).

Writes accuracy.md, accuracy.json and accuracy.png under ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from shiftmax.golden import FixedPoint, quantized_shiftmax, shiftmax

ROOT = Path(__file__).resolve().parent.parent

#: (lanes, rows) measured; fewer rows at N = 1000 keep memory and time modest.
DEFAULT_SIZES = ((10, 20000), (100, 20000), (1000, 2000))
#: Standard deviations of the float logits (a flat and a peaked classifier output).
DEFAULT_SPREADS = (1.0, 4.0)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Float64 softmax along the last axis."""
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def quantize_logits(logits: np.ndarray, value_bits: int, frac_bits: int) -> FixedPoint:
    """Floor to ``frac_bits`` fractional bits; FixedPoint saturates to ``value_bits``."""
    return FixedPoint(np.floor(logits * 2.0**frac_bits), value_bits, frac_bits)


def accuracy_row(*, lanes: int, rows: int, spread: float, value_bits: int, frac_bits: int,
                 exp_bitwidth: int, buffer_bitwidth: int, rng: np.random.Generator) -> dict:
    """Error statistics of one (N, spread) setting; see the module docstring."""
    logits = rng.normal(0.0, spread, (rows, lanes))
    x = quantize_logits(logits, value_bits, frac_bits)
    out = quantized_shiftmax(x, exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth)
    hw = out.to_float()
    reference = softmax(logits)
    float_shiftmax = shiftmax(logits)
    error = np.abs(hw - reference)
    sums = hw.sum(axis=-1)
    top1 = np.argmax(logits, axis=-1)
    row_max = hw.max(axis=-1)
    top1_value = hw[np.arange(rows), top1]
    tied = (hw == row_max[:, np.newaxis]).sum(axis=-1)
    return {
        "n": lanes,
        "rows": rows,
        "logit_std": spread,
        "max_abs_error": float(error.max()),
        "mean_abs_error": float(error.mean()),
        "max_abs_error_vs_float_shiftmax": float(np.abs(hw - float_shiftmax).max()),
        "sum_min": float(sums.min()),
        "sum_max": float(sums.max()),
        "sum_mean": float(sums.mean()),
        "top1_kept": float(np.mean(top1_value == row_max)),
        "top1_unique": float(np.mean((top1_value == row_max) & (tied == 1))),
        "mean_lanes_at_max": float(tied.mean()),
        "all_zero_rows": int(np.sum(row_max == 0)),
    }


def markdown_table(results: list[dict], settings: dict) -> str:
    """The accuracy table in Markdown, with a line stating the settings."""
    lines = [
        f"Shiftmax (golden model, E={settings['exp_bitwidth']}, B={settings['buffer_bitwidth']},"
        f" round_log2=exact) on logits ~ Normal(0, std) quantized to VB={settings['value_bits']},"
        f" F={settings['frac_bits']} (ap_fixed<{settings['value_bits'] + 1},"
        f"{settings['value_bits'] + 1 - settings['frac_bits']}>), against float64 softmax of the"
        f" unquantized logits; seed {settings['seed']}.",
        "",
        "| N | logit std | rows | max abs err | mean abs err | max abs err vs float shiftmax "
        "| output sum min..max (mean) | top-1 among largest | top-1 alone at max "
        "| mean lanes at max |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['n']} | {r['logit_std']:g} | {r['rows']} | {r['max_abs_error']:.4f} "
            f"| {r['mean_abs_error']:.2e} | {r['max_abs_error_vs_float_shiftmax']:.1e} "
            f"| {r['sum_min']:.3f}..{r['sum_max']:.3f} ({r['sum_mean']:.3f}) "
            f"| {100 * r['top1_kept']:.1f}% | {100 * r['top1_unique']:.1f}% "
            f"| {r['mean_lanes_at_max']:.2f} |")
    return "\n".join(lines) + "\n"


def plot(results: list[dict], samples: dict, path: Path) -> None:
    """Two panels: shiftmax output against softmax (N = 10), and error/sum range against N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for spread, (reference, hw) in samples.items():
        left.scatter(reference.ravel(), hw.ravel(), s=4, alpha=0.3, label=f"logit std {spread:g}")
    left.plot([0, 1], [0, 1], color="black", linewidth=0.8, label="ideal")
    left.set_xlabel("float softmax")
    left.set_ylabel("shiftmax output / 2**E")
    left.set_title("N = 10: output against softmax")
    left.legend(loc="upper left", fontsize=8)
    for spread in sorted({r["logit_std"] for r in results}):
        rows = [r for r in results if r["logit_std"] == spread]
        sizes = [r["n"] for r in rows]
        right.plot(sizes, [r["max_abs_error"] for r in rows], marker="o",
                   label=f"max abs err, std {spread:g}")
        right.plot(sizes, [r["mean_abs_error"] for r in rows], marker="s", linestyle="--",
                   label=f"mean abs err, std {spread:g}")
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("N (lanes)")
    right.set_ylabel("absolute error against softmax")
    right.set_title("Error against N")
    right.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "report",
                        help="output folder (default build/report)")
    parser.add_argument("--value-bits", type=int, default=15, help="VB (default 15)")
    parser.add_argument("--frac-bits", type=int, default=10, help="F (default 10)")
    parser.add_argument("--exp-bitwidth", type=int, default=10, help="E (default 10)")
    parser.add_argument("--buffer-bitwidth", type=int, default=32, help="B (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows")
    args = parser.parse_args(argv)

    settings = {"value_bits": args.value_bits, "frac_bits": args.frac_bits,
                "exp_bitwidth": args.exp_bitwidth, "buffer_bitwidth": args.buffer_bitwidth,
                "seed": args.seed}
    rng = np.random.default_rng(args.seed)
    results, samples = [], {}
    start = time.monotonic()
    for lanes, rows in DEFAULT_SIZES:
        rows = max(rows // 10, 100) if args.quick else rows
        for spread in DEFAULT_SPREADS:
            results.append(accuracy_row(lanes=lanes, rows=rows, spread=spread,
                                        value_bits=args.value_bits, frac_bits=args.frac_bits,
                                        exp_bitwidth=args.exp_bitwidth,
                                        buffer_bitwidth=args.buffer_bitwidth, rng=rng))
            print(f"[accuracy {time.monotonic() - start:5.1f} s] N={lanes} std={spread:g}: "
                  f"max abs err {results[-1]['max_abs_error']:.4f}", file=sys.stderr)
    for spread in DEFAULT_SPREADS:
        logits = rng.normal(0.0, spread, (300, 10))
        x = quantize_logits(logits, args.value_bits, args.frac_bits)
        out = quantized_shiftmax(x, exp_bitwidth=args.exp_bitwidth,
                                 buffer_bitwidth=args.buffer_bitwidth)
        samples[spread] = (softmax(logits), out.to_float())

    args.out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(results, settings)
    (args.out / "accuracy.md").write_text(table)
    (args.out / "accuracy.json").write_text(json.dumps({"settings": settings,
                                                        "results": results}, indent=1) + "\n")
    plot(results, samples, args.out / "accuracy.png")
    print(table)
    print(f"Wrote {args.out / 'accuracy.md'}, accuracy.json and accuracy.png", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
