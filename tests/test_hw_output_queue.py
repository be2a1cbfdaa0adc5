# amaranth: UnusedElaboratable=no
"""OutputQueue in Amaranth's simulator: order under backpressure, one result per clock, credits."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from shiftmax.hw.output_queue import OutputQueue

WIDTHS = [5, 3, 4]


def run_queue(*, depth: int, cycles: int, offer: float, stall: float, seed: int):
    """Write a numbered result whenever a credit is left (with probability ``offer``), take
    results at ``o`` while ready (low with probability ``stall``); returns the results
    taken, the cycles with a result written and the most credits ever in use."""
    queue = OutputQueue(widths=WIDTHS, depth=depth)
    width = sum(WIDTHS)
    rng = np.random.default_rng(seed)
    taken, written, used = [], [], [0]

    async def bench(ctx):
        in_use, number = 0, 0
        for cycle in range(cycles):
            write = in_use < depth and rng.random() < offer
            ready = int(rng.random() >= stall)
            ctx.set(queue.w_en, (1 << len(WIDTHS)) - 1 if write else 0)
            ctx.set(queue.w_data, number % (1 << width))
            # popped is a function of registers only: o.ready does not change it.
            ctx.set(queue.o.ready, 1 - ready)
            popped = ctx.get(queue.popped)
            ctx.set(queue.o.ready, ready)
            assert ctx.get(queue.popped) == popped
            if ready and ctx.get(queue.o.valid):
                taken.append(ctx.get(queue.o.payload))
            await ctx.tick()
            if write:
                written.append(cycle)
                number += 1
            in_use += write - popped
            used[0] = max(used[0], in_use)
        ctx.set(queue.w_en, 0)
        ctx.set(queue.o.ready, 1)
        for _ in range(3 * depth + 4):
            if ctx.get(queue.o.valid):
                taken.append(ctx.get(queue.o.payload))
            await ctx.tick()
        assert not ctx.get(queue.o.valid)
        assert len(taken) == number

    sim = Simulator(queue)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return taken, written, used[0]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("depth", [2, 5, 8])
def test_results_come_out_in_order_under_backpressure(depth: int, seed: int) -> None:
    taken, _, used = run_queue(depth=depth, cycles=300, offer=0.7, stall=0.4, seed=seed)
    width = sum(WIDTHS)
    assert taken == [k % (1 << width) for k in range(len(taken))]
    assert used <= depth


def test_one_result_per_clock_with_ready_high() -> None:
    """Two credits suffice for a result per clock: one comes back a cycle after its write."""
    _, written, _ = run_queue(depth=2, cycles=100, offer=1.0, stall=0.0, seed=0)
    assert written == list(range(100))
