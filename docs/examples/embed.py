"""Embedding a shiftmax unit in your own Amaranth design, and simulating it.

A classifier head: logits arrive as a stream of rows; the design answers each row with its
label (the argmax) and its confidence (the shiftmax output of that label, 2**E meaning 1.0).
Inside, one row goes to a :class:`~shiftmax.hw.Shiftmax` unit and to an
:class:`~shiftmax.hw.Argmax` unit at once; the labels, which come out first, wait in an
Amaranth FIFO for their row's shiftmax, and the answer waits in a second FIFO until the
consumer takes it. It takes one row per clock. The units are plain components with stream
members ``i`` and ``o``, so they join your streams with ``wiring.connect`` (a stream declared
with the unit's own ``in_layout``) or by assigning payload fields; no AXI names appear until
you emit Verilog for a unit alone.

Run it::

    .venv/bin/python docs/examples/embed.py

It streams random rows through the design in Amaranth's simulator (with gaps on the input and
backpressure on the output) and checks every answer against the golden model.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from shiftmax.golden import FixedPoint, argmax, quantized_shiftmax
from shiftmax.hw import Argmax, Shiftmax

N, VALUE_BITS, FRAC_BITS, EXP_BITWIDTH = 10, 7, 2, 10


class ClassifierHead(wiring.Component):
    """Rows of N logits in; (label, confidence) out, in the order the rows came.

    Members
    -------
    i : In(stream.Signature(ArrayLayout(signed(VALUE_BITS + 1), N)))
    o : Out(stream.Signature(StructLayout({"label": index, "confidence": E + 1 bits})))
    """

    def __init__(self, *, flow_control: str = "fifo") -> None:
        self.shiftmax = Shiftmax(n=N, value_bits=VALUE_BITS, frac_bits=FRAC_BITS,
                                 exp_bitwidth=EXP_BITWIDTH, flow_control=flow_control)
        self.argmax = Argmax(n=N, value_bits=VALUE_BITS, flow_control=flow_control)
        self.answer = data.StructLayout({
            "label": unsigned(self.argmax.index_bits),
            "confidence": unsigned(EXP_BITWIDTH + 1),
        })
        super().__init__({
            "i": In(stream.Signature(data.ArrayLayout(signed(VALUE_BITS + 1), N))),
            "o": Out(stream.Signature(self.answer)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.shiftmax = smax = self.shiftmax
        m.submodules.argmax = amax = self.argmax
        # The argmax answers sooner than the shiftmax: its labels wait here (deep enough for
        # every row the shiftmax holds, so the fork below never stalls on it).
        m.submodules.labels = labels = fifo.SyncFIFOBuffered(
            width=amax.index_bits, depth=smax.latency + 2)
        m.submodules.queue = queue = fifo.SyncFIFOBuffered(width=self.answer.size, depth=4)

        # Fork: a row goes to both units, and is taken when both take it. (Both units have
        # the same input layout; an element of the row is smax.i.payload.data[k].)
        m.d.comb += [
            smax.i.payload.data.eq(self.i.payload), amax.i.payload.data.eq(self.i.payload),
            smax.i.valid.eq(self.i.valid & amax.i.ready),
            amax.i.valid.eq(self.i.valid & smax.i.ready),
            self.i.ready.eq(smax.i.ready & amax.i.ready),
        ]
        m.d.comb += [
            labels.w_data.eq(amax.o.payload.data), labels.w_en.eq(amax.o.valid),
            amax.o.ready.eq(labels.w_rdy),
        ]
        # Join: both results of a row, taken together; the label picks its confidence.
        answer = Signal(self.answer)
        label = labels.r_data
        m.d.comb += [
            answer.label.eq(label),
            answer.confidence.eq(smax.o.payload.data[label]),
            queue.w_data.eq(answer),
            queue.w_en.eq(smax.o.valid & labels.r_rdy),
            smax.o.ready.eq(labels.r_rdy & queue.w_rdy),
            labels.r_en.eq(smax.o.valid & queue.w_rdy),
        ]
        # The FIFO's read side is this design's output stream.
        m.d.comb += [
            self.o.payload.eq(queue.r_data), self.o.valid.eq(queue.r_rdy),
            queue.r_en.eq(self.o.ready),
        ]
        return m


def ref_head(rows: np.ndarray) -> list[tuple[int, int]]:
    """The golden answers: argmax of the raw logits, and that lane's shiftmax output."""
    labels = argmax(rows)
    outputs = quantized_shiftmax(FixedPoint(rows, VALUE_BITS, FRAC_BITS),
                                 exp_bitwidth=EXP_BITWIDTH).values
    return [(int(k), int(outputs[r, k])) for r, k in enumerate(labels)]


def rtl_head(rows: np.ndarray, *, flow_control: str = "fifo", seed: int = 0,
             gap: float = 0.3, stall: float = 0.3,
             taken: list[int] | None = None) -> list[tuple[int, int]]:
    """Stream ``rows`` through :class:`ClassifierHead` in Amaranth's simulator.

    ``gap``/``stall``: probability of a cycle without a row offered / without the output
    ready. The cycles at which rows were taken are appended to ``taken`` when given.
    """
    head = ClassifierHead(flow_control=flow_control)
    rng = np.random.default_rng(seed)
    answers: list[tuple[int, int]] = []
    taken = [] if taken is None else taken

    async def bench(ctx):
        sent, cycle = 0, 0
        while len(answers) < len(rows):
            offer = sent < len(rows) and rng.random() >= gap
            ready = rng.random() >= stall
            ctx.set(head.i.valid, int(offer))
            if offer:
                ctx.set(head.i.payload, [int(v) for v in rows[sent]])
            ctx.set(head.o.ready, int(ready))
            if offer and ctx.get(head.i.ready):
                sent += 1
                taken.append(cycle)
            if ready and ctx.get(head.o.valid):
                answers.append((ctx.get(head.o.payload.label),
                                ctx.get(head.o.payload.confidence)))
            await ctx.tick()
            cycle += 1

    sim = Simulator(head)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return answers


def main() -> None:
    rng = np.random.default_rng(1)
    rows = rng.integers(-(1 << VALUE_BITS), 1 << VALUE_BITS, size=(200, N))
    expected, actual = ref_head(rows), rtl_head(rows)
    assert actual == expected, "the design disagrees with the golden model"
    print(f"{len(rows)} rows: every (label, confidence) matches the golden model; "
          f"first three {actual[:3]} (confidence {2 ** EXP_BITWIDTH} = 1.0)")


if __name__ == "__main__":
    main()
