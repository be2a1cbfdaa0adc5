"""The streaming Argmax: a row of N elements as ceil(N / P) beats of P lanes, one index out."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Const, EnableInserter, Module, Mux, Signal, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.argmax import ARGMAX_OUTPUTS
from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_int
from shiftmax.units import ARGMAX

from .argmax_tree import ArgmaxTree
from .flow import check_flow_control
from .framing import RowFramer, beats_per_row, streaming_input_layout, valid_delay
from .pipeline import (
    ceil_log2,
    check_pipeline_params,
    delay,
    fit,
    is_greater,
    register,
    tree_latency,
    wire,
)

__all__ = ["StreamingArgmax"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = ARGMAX.defaults()


def _check_streaming_common(n: int, lanes_per_beat, flow_control, mask, *,
                            forms: tuple[str, ...] = ("enable",)) -> tuple[int, str, bool]:
    """``lanes_per_beat`` (1 .. n - 1), ``flow_control`` (one of ``forms``) and ``mask`` of a
    streaming unit."""
    if lanes_per_beat is None:
        raise ValueError(f"lanes_per_beat must be given (1 to n - 1 = {n - 1}) for the "
                         f"streaming form, not None")
    p = check_int("lanes_per_beat", lanes_per_beat, 1, n - 1)
    flow_control = check_flow_control(flow_control, forms)
    if not isinstance(mask, bool):
        raise TypeError(f"mask must be True or False, not {mask!r}")
    return p, flow_control, mask


class StreamingArgmax(wiring.Component):
    """argmax of rows that stream in as beats of P lanes; one beat (the index) out per row.

    Bit-exact with ``shiftmax.golden.argmax(x, output=..., mask=...)`` on the row the
    contract's framing forms (``streaming.md``): the lowest index wins among equal maxima;
    a masked element (or one an early ``tlast`` left out) ranks below every present one, so
    a row with no present element gives index 0.

    Architecture (one pass, one beat per clock, rows back to back):

    1. :class:`~shiftmax.hw.framing.RowFramer`: beat counter, ``tlast`` framing, the absent
       lanes (mask, lanes past N) replaced by the lowest key in its register. Without a mask
       the key is the lane itself and absent lanes take ``-2**VB``: they come after every
       present element of the row, so on a tie the present element, lower in index, wins.
       With a mask the key is one bit wider and absent lanes take ``-2**(VB+1)``, below every
       input.
    2. :class:`ArgmaxTree` over the P lanes of the beat (pipelined by ``register_every``),
       then, with ``stage_registers``, a register.
    3. The running best (key, beat number, lane): loaded through its clock enable when the
       beat is the row's first or its maximum is strictly greater (beats come in increasing
       index order, so ties keep the lowest index). On the row's last beat the winner and
       the flag (malformed row, or no present element) are registered.
    4. ``index = beat * P + lane`` (a one-hot decoder for ``output="onehot"``), registered as
       the output beat.

    The whole pass runs under one clock enable ``ce = o.ready | ~o.valid`` (flow control
    ``"enable"``): it freezes while a result waits, and ``i.ready`` falls with it.

    Number format: input lane ``j`` of beat ``b`` is element ``b*P + j``, two's complement,
    ``value_bits + 1`` bits. Output ``data``: the index, unsigned, ``max(1, ceil(log2 n))``
    bits, or one-hot, ``n`` bits.

    Parameters
    ----------
    n : int
        Elements per row, at least 2.
    value_bits : int
        Magnitude bits per element, sign not counted (1 to 31).
    lanes_per_beat : int
        ``P``, 1 to ``n - 1`` (``n`` is the one-beat unit, :class:`~shiftmax.hw.Argmax`).
    output : {"index", "onehot"}
        Form of the result (default ``"index"``).
    register_every : int
        A pipeline register after every K levels of the beat's tree (default 2).
    stage_registers : bool
        A register between the beat's tree and the running best (default True).
    lanes_per_cycle : None
        The folded one-beat form's parameter; only None (the beat is already narrow).
    flow_control : {"enable"} or None
        Only ``"enable"`` (see above); None (the default) means it.
    mask : bool
        A per-lane mask input (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout(data=ArrayLayout(signed(VB+1), P), [mask=P,] last=1)))
    o : Out(stream.Signature(StructLayout(data=index_bits or n, last=1, user=1)))
        ``last`` is 1 on every beat; ``user`` flags a malformed row or one with no present
        element.

    Latency
    -------
    ``3 + (ceil(log2 P) - 1) // register_every + stage_registers`` (the tree term is 0 when
    ``register_every`` is 0 or ``P <= 2``): edges from the handshake of a row's last input
    beat to the handshake of its output beat, ``o.ready`` high.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value.
    """

    unit_name = "argmax"

    def __init__(self, *, n: int, value_bits: int, lanes_per_beat: int,
                 output: str = _DEFAULTS["output"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 lanes_per_cycle: int | None = None, flow_control: str | None = None,
                 mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 2)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._p, self._flow_control, self._mask = _check_streaming_common(
            self._n, lanes_per_beat, flow_control, mask)
        if lanes_per_cycle is not None:
            raise ValueError(f"lanes_per_cycle folds the one-beat-per-row Argmax; with "
                             f"lanes_per_beat={self._p} it must be None, "
                             f"not {lanes_per_cycle!r}")
        self._output = check_choice("output", output, ARGMAX_OUTPUTS)
        self._register_every, self._stage_registers = check_pipeline_params(
            register_every, stage_registers)
        self._beats = beats_per_row(self._n, self._p)
        in_layout = streaming_input_layout(lanes_per_beat=self._p, value_bits=self._value_bits,
                                           mask=self._mask)
        out_width = self._n if self._output == "onehot" else self.index_bits
        out_layout = data.StructLayout({"data": unsigned(out_width), "last": unsigned(1),
                                        "user": unsigned(1)})
        super().__init__({"i": In(stream.Signature(in_layout)),
                          "o": Out(stream.Signature(out_layout))})

    @property
    def n(self) -> int:
        return self._n

    @property
    def value_bits(self) -> int:
        return self._value_bits

    @property
    def lanes_per_beat(self) -> int:
        return self._p

    @property
    def output(self) -> str:
        return self._output

    @property
    def mask(self) -> bool:
        return self._mask

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def beats_per_row(self) -> int:
        return self._beats

    @property
    def input_cycles(self) -> int:
        return 1

    @property
    def memory_bits(self) -> int:
        return 0

    @property
    def flow_control(self) -> str:
        return self._flow_control

    @property
    def _key_bits(self) -> int:
        """Bits of a lane's key: the lane, one more with a mask (room below every input)."""
        return self._value_bits + 1 + int(self._mask)

    @property
    def _tree_latency(self) -> int:
        return tree_latency(self._p, self._register_every)

    @property
    def latency(self) -> int:
        return 3 + self._tree_latency + int(self._stage_registers)

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "output": self._output,
                "register_every": self._register_every,
                "stage_registers": self._stage_registers, "lanes_per_cycle": None,
                "flow_control": self._flow_control, "lanes_per_beat": self._p,
                "mask": self._mask}

    def elaborate(self, platform) -> Module:
        m = Module()
        ce = Signal(name="ce")
        m.d.comb += ce.eq(self.o.ready | ~self.o.valid)
        body = Module()
        m.submodules.body = EnableInserter(ce)(body)
        p, key_bits = self._p, self._key_bits

        # 1. Framing; absent lanes take the lowest key in the framer's register.
        body.submodules.framer = framer = RowFramer(
            n=self._n, lanes_per_beat=p, value_bits=self._value_bits, mask=self._mask,
            fill=False, width=key_bits, absent_value=-(1 << (key_bits - 1)))
        wiring.connect(body, wiring.flipped(self.i), framer.i)
        body.d.comb += framer.space.eq(ce)

        # 2. The beat's tree; the beat's flags travel beside it (the valid bit with a reset).
        body.submodules.tree = tree = ArgmaxTree(n=p, value_bits=key_bits - 1,
                                                 register_every=self._register_every)
        body.d.comb += tree.values.eq(framer.lanes)
        number_bits = max(1, ceil_log2(self._beats))
        number = Signal(number_bits, name="number")  # beat number of the framer's beat
        with body.If(framer.valid):
            body.d.sync += number.eq(Mux(framer.last, 0, number + 1))
        present = ~framer.absent.all() if self._mask else Const(1, 1)
        cycles = tree.latency + int(self._stage_registers)
        valid = valid_delay(body, framer.valid, cycles, name="beat_valid")
        first, last, malformed, present, number = (
            delay(body, f, cycles, name=name) for f, name in (
                (framer.first, "first"), (framer.last, "last"),
                (framer.malformed, "malformed"), (present, "present"), (number, "number")))
        maximum, lane = tree.maximum, tree.index
        if self._stage_registers:
            maximum, lane = register(body, maximum, name="beat_max"), register(body, lane)

        # 3. The running best: loaded through its clock enable, never through a multiplexer.
        best = Signal(maximum.shape(), name="best", reset_less=True)
        best_lane = Signal(len(lane), name="best_lane", reset_less=True)
        best_number = Signal(number_bits, name="best_number", reset_less=True)
        any_present = Signal(name="any_present", reset_less=True)
        better = wire(body, first | is_greater(maximum, best), name="better")
        row_present = wire(body, present | (any_present & ~first), name="row_present")
        with body.If(valid):
            body.d.sync += any_present.eq(row_present)
            with body.If(better):
                body.d.sync += [best.eq(maximum), best_lane.eq(lane), best_number.eq(number)]
        final_valid = Signal(name="final_valid")
        final_lane = Signal(len(lane), name="final_lane", reset_less=True)
        final_number = Signal(number_bits, name="final_number", reset_less=True)
        final_user = Signal(name="final_user", reset_less=True)
        body.d.sync += final_valid.eq(valid & last)
        with body.If(valid & last):
            body.d.sync += [final_lane.eq(Mux(better, lane, best_lane)),
                            final_number.eq(Mux(better, number, best_number)),
                            final_user.eq(malformed | ~row_present)]

        # 4. The index (or its one-hot decoding), registered as the output beat.
        index = wire(body, fit(final_number * p + final_lane, self.index_bits), name="index")
        result = (Const(1, self._n) << index)[:self._n] if self._output == "onehot" else index
        out_data = Signal(len(self.o.payload.data), name="out_data", reset_less=True)
        out_user = Signal(name="out_user", reset_less=True)
        body.d.sync += [out_data.eq(result), out_user.eq(final_user)]
        out_valid = Signal(name="out_valid")
        body.d.sync += out_valid.eq(final_valid)
        m.d.comb += [self.o.valid.eq(out_valid), self.o.payload.data.eq(out_data),
                     self.o.payload.last.eq(1), self.o.payload.user.eq(out_user)]
        return m
