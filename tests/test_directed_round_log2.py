# amaranth: UnusedElaboratable=no
"""RoundLog2 at stage level over every sum a small configuration can reach, both forms.

Where the sum space is small, no threshold table entry, split compare or binade edge can
hide: every value of ``S`` from ``2**(2e)`` to the largest the lanes (or the clamp) allow
goes through the stage in Amaranth's simulator and is checked against golden round_log2.
The split compares (``register_inside``) appear from 12-bit binade fields, so the larger
configurations below have them. (All these sums are below ``2**18``, where the quantizeml
table equals the exact one.)
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from amaranth.back import verilog
from rtl_sim import mismatch, rtl_stage

from shiftmax.golden import round_log2
from shiftmax.hw import RoundLog2
from shiftmax.hw.adder_tree import sum_bits
from shiftmax.sim.directed import reachable_sums
from shiftmax.sim.vectors import UnitShape


@pytest.mark.parametrize("register_inside", [False, True], ids=["combinational", "split"])
@pytest.mark.parametrize("n, exp_bitwidth, buffer_bitwidth", [
    (3, 2, 6), (6, 3, 8), (8, 6, 16), (2, 7, 17),
])
def test_every_sum_of_the_configuration_rounds_as_golden(n, exp_bitwidth, buffer_bitwidth,
                                                          register_inside):
    mode = "exact"  # below 2**18 the quantizeml table is the exact one
    width = sum_bits(n, exp_bitwidth, buffer_bitwidth)
    largest = min(n << (2 * exp_bitwidth), (1 << (buffer_bitwidth - 1)) - 1, (1 << width) - 1)
    sums = np.arange(1 << (2 * exp_bitwidth), largest + 1, dtype=np.int64)
    stage = RoundLog2(n=n, exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth,
                      round_log2=mode, register_inside=register_inside)
    result = rtl_stage(stage, {"total": (sums, width)},
                       {"log2": (stage.out_bits, None, False),
                        "shift": (stage.shift_bits, None, True)})
    expected = round_log2(sums, mode)
    assert np.array_equal(expected, result["log2"]), mismatch(sums, expected, result["log2"])
    assert np.array_equal(result["shift"], 3 * exp_bitwidth - expected)


@pytest.mark.skipif(shutil.which("iverilog") is None, reason="Icarus Verilog is not installed")
@pytest.mark.skipif(not os.environ.get("SHIFTMAX_HW_FULL"),
                    reason="924,000 sums on Icarus: make test-full (SHIFTMAX_HW_FULL=1)")
@pytest.mark.parametrize("register_inside", [False, True], ids=["combinational", "split"])
def test_every_reachable_sum_of_the_default_configuration_on_icarus(register_inside):
    """N = 10, e = 10, B = 32: the 923,780 sums ten lanes can make, through the stage's
    Verilog on Icarus (Amaranth's simulator would take minutes)."""
    n, e, b = 10, 10, 32
    sums = reachable_sums(UnitShape("shiftmax", {"n": n, "value_bits": 7}))
    stage = RoundLog2(n=n, exp_bitwidth=e, buffer_bitwidth=b, register_inside=register_inside)
    width = sum_bits(n, e, b)
    folder = Path(__file__).resolve().parents[1] / "build" / "round-log2-exhaustive" / \
        ("split" if register_inside else "combinational")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "stage.v").write_text(verilog.convert(stage, name="stage"))
    np.savetxt(folder / "sums.hex", sums, fmt="%x")
    wait = "@(posedge clk); #1;" if register_inside else "#1;"
    clocks = ".clk(clk), .rst(rst), " if register_inside else ""
    (folder / "bench.v").write_text(f"""
module bench;
    reg clk = 0, rst = 0;
    reg [{width - 1}:0] total;
    wire [{stage.out_bits - 1}:0] log2;
    wire [{stage.shift_bits - 1}:0] shift;
    reg [{width - 1}:0] sums [0:{len(sums) - 1}];
    integer i, out;
    stage dut ({clocks}.total(total), .log2(log2), .shift(shift));
    always #5 clk = ~clk;
    initial begin
        $readmemh("sums.hex", sums);
        out = $fopen("log2.txt", "w");
        for (i = 0; i < {len(sums)}; i = i + 1) begin
            total = sums[i]; {wait}
            $fdisplay(out, "%0d %0d", log2, $signed(shift));
        end
        $fclose(out);
        $finish;
    end
endmodule
""")
    subprocess.run(["iverilog", "-g2005", "-o", "bench.vvp", "bench.v", "stage.v"],
                   cwd=folder, check=True)
    subprocess.run(["vvp", "-n", "bench.vvp"], cwd=folder, check=True, capture_output=True)
    result = np.loadtxt(folder / "log2.txt", dtype=np.int64).reshape(-1, 2)
    expected = round_log2(sums, "exact")
    assert np.array_equal(expected, result[:, 0]), mismatch(sums, expected, result[:, 0])
    assert np.array_equal(result[:, 1], 3 * e - expected)
