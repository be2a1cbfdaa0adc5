"""The Argmax unit: one row per beat in, index (or one-hot) of the largest lane out."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, ResetSignal, Signal, Value, signed, unsigned
from amaranth.lib import data

from shiftmax.golden.argmax import ARGMAX_OUTPUTS
from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_int
from shiftmax.units import ARGMAX

from .argmax_tree import ArgmaxTree
from .flow import FixedLatencyUnit, InputStep, connect_flow
from .formal import formal_build
from .pipeline import (
    PipelinedUnit,
    UnitProperties,
    ceil_log2,
    check_lanes_per_beat,
    check_mask,
    check_one_beat_size,
    check_pipeline_params,
    delay,
    fit,
    is_greater,
    lanes,
    register,
    tree_latency,
    wire,
)

__all__ = ["Argmax"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = ARGMAX.defaults()


class Argmax(UnitProperties, PipelinedUnit, FixedLatencyUnit):
    """argmax over N signed lanes, one row per beat; ties go to the lowest index.

    It reads the raw inputs as two's complement integers (no flooring, so no ties are
    created), exactly like ``shiftmax.golden.argmax``.

    Architecture: the :class:`ArgmaxTree` (compare-select tree whose select bits form the
    index), then for ``output="onehot"`` a decoder ``1 << index``, then the output
    register. With ``stage_registers`` a register separates the tree from the decoder (there is
    no second stage for ``output="index"``, so it changes nothing there).

    Folded (``lanes_per_cycle = P < n``): the unit reads the beat ``P`` lanes per cycle, part
    ``c`` being lanes ``[c*P, c*P + P)`` (a short last part is padded with the lowest value,
    which never wins), over ``ceil(n / P)`` cycles while ``s_axis_tready`` stays low (the
    source holds ``s_axis_tdata``). A multiplexer picks the part into a register, a ``P``-lane
    :class:`ArgmaxTree` finds its maximum, and a running best (value and index) keeps it when
    it is strictly greater than the best so far, or when it is the first part: parts come in
    increasing lane order, so ties still go to the lowest index. The best registers load
    through their clock enable, so the fold needs no value multiplexer after the tree; the
    result is the best after the last part. Like FINN's serial label select, it trades
    throughput for area.

    With ``mask``, a masked lane ranks below every present one, and masked lanes among
    themselves by lower index first (the golden ``argmax(mask=...)``): each lane is compared
    as a key one bit wider, its value when present and one below the lowest value when masked.
    A row whose every lane is masked gives index 0 (one-hot bit 0) and raises
    ``o.payload.user``.

    Number format: input lane k is ``i.payload.data[k]`` (``s_axis_tdata[k*(value_bits+1) +:
    value_bits+1]`` at the Verilog ports), two's complement. Output ``o.payload.data``: the
    index, unsigned, ``max(1, ceil(log2(n)))`` bits; or one-hot, ``n`` bits, bit k for lane k.

    Parameters
    ----------
    n : int
        Lanes, at least 2.
    value_bits : int
        Magnitude bits per lane, sign not counted (1 to 31): a lane is ``value_bits + 1`` bits.
    output : {"index", "onehot"}
        Form of the result (default ``"index"``).
    register_every : int
        Pipeline register after every K levels of the tree (0: combinational tree; default 2).
    stage_registers : bool
        Register between the tree and the one-hot decoder, and in a folded unit between its
        part tree and its running best (default True).
    lanes_per_cycle : int or None
        Lanes compared per cycle, 1 to ``n``; ``None`` (default) or ``n``: all of them, one
        beat per cycle. Fewer folds the unit: one beat every ``ceil(n / lanes_per_cycle)``
        cycles (``input_cycles``).
    flow_control : {"enable", "skid", "fifo"} or None
        How the pipeline meets the stream handshake (:mod:`shiftmax.hw.flow`); None (the
        default): the registry's ``DEFAULT_FLOW_CONTROL``, ``"fifo"``.
    lanes_per_beat : int or None
        ``None`` or ``n``: the whole row in one beat (this class); fewer is the streaming
        form, built by ``StreamingArgmax``.
    mask : bool
        Add the per-lane mask input ``i.payload.mask`` (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout({"data": ArrayLayout(signed(value_bits + 1), n),
        "mask": unsigned(n)})))   (``mask`` only with ``mask=True``)
    o : Out(stream.Signature(StructLayout({"data": unsigned(index_bits) or unsigned(n),
        "user": unsigned(1)})))   (``user`` only with ``mask=True``: every lane was masked)

    Latency
    -------
    ``L + {"enable": 0, "skid": 1, "fifo": 2}[flow_control]`` with the datapath latency
    ``L = 1 + (ceil(log2(P)) - 1) // register_every + (stage_registers and output == "onehot")``
    with ``P = lanes_per_cycle`` (the tree term is 0 when ``register_every`` is 0 or P <= 2),
    plus, when folded, 1 for the part register and 1 for the stage register between a part
    tree of 2+ lanes and the running best (with ``stage_registers``); counted from the
    handshake, which a folded unit gives on the beat's last part.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value; a row
        too long for one beat (see :func:`shiftmax.hw.pipeline.check_one_beat_size`) names
        ``n`` and points to ``lanes_per_beat``.
    """

    unit_name = "argmax"

    def __init__(self, *, n: int, value_bits: int, output: str = _DEFAULTS["output"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 lanes_per_cycle: int | None = None, flow_control: str | None = None,
                 lanes_per_beat: int | None = None, mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 2)
        check_lanes_per_beat(lanes_per_beat, self._n, "StreamingArgmax")
        self._mask = check_mask(mask)
        self._lanes_per_cycle = self._n if lanes_per_cycle is None else \
            check_int("lanes_per_cycle", lanes_per_cycle, 1, self._n)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._output = check_choice("output", output, ARGMAX_OUTPUTS)
        self._register_every, self._stage_registers = check_pipeline_params(
            register_every, stage_registers)
        wires = {"input data (n * (value_bits + 1))": self._n * (self._value_bits + 1)}
        if self._mask:
            wires["compare keys (n * (value_bits + 2))"] = self._n * (self._value_bits + 2)
        check_one_beat_size(self._n, wires,
                            input_bits=self._n * (self._value_bits + 1 + int(self._mask)) + 4)
        out_width = self._n if self._output == "onehot" else self.index_bits
        in_fields = {"data": data.ArrayLayout(signed(self._value_bits + 1), self._n)}
        out_fields = {"data": unsigned(out_width)}
        if self._mask:
            in_fields["mask"] = unsigned(self._n)
            out_fields["user"] = unsigned(1)
        super().__init__(in_layout=data.StructLayout(in_fields),
                         out_layout=data.StructLayout(out_fields), flow_control=flow_control)

    @property
    def output(self) -> str:
        return self._output

    @property
    def _key_bits(self) -> int:
        """Magnitude bits of a compared lane: one more with a mask (room below the lowest)."""
        return self._value_bits + int(self._mask)

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def lanes_per_cycle(self) -> int:
        return self._lanes_per_cycle

    @property
    def folded(self) -> bool:
        return self._lanes_per_cycle < self._n

    @property
    def _fold_stage_register(self) -> bool:
        """A stage register between a folded unit's part tree (2+ lanes) and its running best."""
        return self.folded and self._stage_registers and self._lanes_per_cycle > 1

    @property
    def input_cycles(self) -> int:
        return -(-self._n // self._lanes_per_cycle)

    @property
    def datapath_latency(self) -> int:
        decoder_register = self._stage_registers and self._output == "onehot"
        return (1 + int(self.folded) + int(self._fold_stage_register)
                + tree_latency(self._lanes_per_cycle, self._register_every) + int(decoder_register))

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "output": self._output,
                "register_every": self._register_every,
                "stage_registers": self._stage_registers,
                "lanes_per_cycle": self._lanes_per_cycle, "flow_control": self.flow_control,
                "lanes_per_beat": self._n, "mask": self._mask}

    def elaborate(self, platform) -> Module:
        formal = formal_build(platform)
        if formal is None or not self.folded:
            return super().elaborate(platform)
        # The formal build of a folded unit: the same unit, and what its step counter
        # satisfies in every state a reset reaches. While a beat is read in parts (step above
        # 0) the source offers it: the first part's cycle had s_axis_tready low, so tvalid and
        # the payload hold. In the fifo form its credit holds too (only a beat's last part
        # uses one), so every part after the first is taken in the cycle after the one before:
        # the partial results of a beat never wait, and the miter closes by induction.
        steps: list[InputStep] = []

        def datapath(m: Module, payload, step: InputStep) -> Value:
            steps.append(step)
            return self.elaborate_datapath(m, payload, step)

        m = Module()
        connect_flow(m, i=self.i, o=self.o, datapath=datapath,
                     datapath_latency=self.datapath_latency, flow_control=self.flow_control,
                     input_cycles=self.input_cycles, platform=platform)
        step, = steps
        reading = (step.index != 0) & ~ResetSignal()
        offered = step.valid if self.flow_control == "fifo" else self.i.valid
        formal.check(m, [~reading | offered])
        return m

    def elaborate_datapath(self, m: Module, payload, step: InputStep) -> Value:
        m.submodules.tree = tree = ArgmaxTree(n=self._lanes_per_cycle,
                                              value_bits=self._key_bits,
                                              register_every=self._register_every)
        width = self._key_bits + 1
        lowest = Const(-(1 << self._key_bits), signed(width))
        if self._mask:
            # Masked lanes compare as one below the lowest value: they all tie there, so the
            # lowest index among them wins, and every present lane beats them.
            keys = [Mux(payload.mask[k], lowest, payload.data[k]) for k in range(self._n)]
        else:
            keys = [payload.data[k] for k in range(self._n)]
        if self.folded:
            index = self._fold(m, keys, lowest, step, tree)
        else:
            m.d.comb += tree.values.eq(lanes(keys, width) if self._mask else payload.data)
            index = tree.index
        if self._output == "onehot":
            if self._stage_registers:
                index = register(m, index, name="index")
            index = (Const(1, self._n) << index)[:self._n]
        if self._mask:
            # Every lane masked: index 0 (all keys tie), flagged on user.
            empty = delay(m, Value.cast(payload.mask).all(), self.datapath_latency - 1,
                          name="empty")
            index = Cat(index, empty)
        return register(m, index, name="result")

    def _fold(self, m: Module, keys: list, lowest: Value, step: InputStep,
              tree: ArgmaxTree) -> Value:
        """The folded datapath up to the index of the beat's largest lane (see the class)."""
        width, parts, p = self._key_bits + 1, self.input_cycles, self._lanes_per_cycle

        def lane(k: int) -> Value:
            return keys[k] if k < self._n else lowest

        # The part of this step, registered, with its number, first flag and valid flag.
        padded = lanes([lane(k) for k in range(parts * p)], width)
        part = register(m, padded.word_select(step.index, p * width), name="part")
        m.d.comb += tree.values.eq(part)
        maximum, index = tree.maximum, tree.index
        if self._fold_stage_register:  # the tree's compares and the running best's apart
            maximum, index = register(m, maximum, name="part_max"), register(m, index)
        cycles = tree.latency + int(self._fold_stage_register)
        number, first, valid = (delay(m, register(m, value), cycles, name=name)
                                for value, name in ((step.index, "number"),
                                                    (step.index == 0, "first"),
                                                    (step.valid, "valid")))
        part_index = wire(m, fit(number * p + index, self.index_bits), name="part_index")

        # The running best: loaded through its clock enable, never through a multiplexer.
        best = Signal(tree.maximum.shape(), name="best", reset_less=True)
        best_index = Signal(self.index_bits, name="best_index", reset_less=True)
        better = wire(m, first | is_greater(maximum, best), name="better")
        with m.If(valid & better):
            m.d.sync += [best.eq(maximum), best_index.eq(part_index)]
        return Mux(better, part_index, best_index)
