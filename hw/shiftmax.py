"""The Shiftmax unit: one row per beat in, bit-exact quantized shiftmax out."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, Value, signed, unsigned
from amaranth.lib import data

from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_int, check_shiftmax_params
from shiftmax.golden.term_precision import unneeded_term_bits
from shiftmax.units import SHIFTMAX

from .adder_tree import SaturatingAdderTree
from .distance import Distance, distance_bits
from .floor_input import FloorInput, lane_frac_bits
from .flow import FixedLatencyUnit, InputStep
from .max_tree import MaxTree
from .output_shift import OutputShift
from .pipeline import (
    PipelinedUnit,
    UnitProperties,
    check_lanes_per_beat,
    check_mask,
    check_one_beat_size,
    check_pipeline_params,
    copies_for,
    delay,
    lanes,
    register,
    replicas,
    tree_latency,
)
from .round_log2 import RoundLog2
from .shift_exp import ShiftExp

__all__ = ["Shiftmax"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = SHIFTMAX.defaults()


class Shiftmax(UnitProperties, PipelinedUnit, FixedLatencyUnit):
    """Quantized shiftmax over N lanes, one row per beat, bit-exact with the golden model.

    Per beat it computes ``shiftmax.golden.quantized_shiftmax``: floor the inputs, find the
    maximum, turn each lane's distance below it into a power-of-two term, sum the terms
    (saturating), round the sum's logarithm, and shift every term by it.

    Architecture (five stages; with ``stage_registers`` a register after each of the first
    four and one inside each of the last two, so that no step is longer than about one
    32-bit addition; the output register after the last):

    1. :class:`FloorInput` (wiring and a clamp) and :class:`MaxTree` (compare-select tree);
       the floored lanes wait beside the tree in a delay line.
    2. :class:`Distance`: ``min(M - xf[i], 2e + 1)``, a few bits per lane; only these narrow
       distances travel further down the pipeline. With stage registers and
       ``register_every = 1`` a register also sits between the subtraction and the saturation.
    3. :class:`ShiftExp` (one-hot decoders) and :class:`SaturatingAdderTree`, without the low
       term bits no rounding of a reachable sum needs (``dropped_term_bits``). In that most
       pipelined form the decoders work in two steps and sit in front of the stage register
       (the exponent terms are registered, not the distances), so the adder tree starts from
       registers.
    4. :class:`RoundLog2`: leading one and one threshold compare per binade, then the
       selection of ``R``.
    5. :class:`OutputShift`: per lane ``t - d[i]`` (``t = 3e - R`` comes from stage 4), then
       a one-hot decoder.

    With ``mask``, a masked lane (its bit of ``i.payload.mask`` set) takes no part in the
    maximum or the sum and its output is 0: it enters the max tree as the lowest floored value
    and its distance is forced to saturation (a zero term, a zero output). A row whose every
    lane is masked gives all zeros (no flag: as the contract says, ``m_axis_tuser`` flags
    malformed rows and argmax/top-K rows without enough present elements; a one-beat row cannot
    be malformed, so the one-beat Shiftmax has no ``user``).

    Number format: input lane k is ``i.payload.data[k]`` (``s_axis_tdata[k*(value_bits+1) +:
    value_bits+1]`` at the Verilog ports), two's complement with ``frac_bits[k]`` fractional
    bits. Output lane k is ``o.payload.data[k]`` (``m_axis_tdata[k*(e+1) +: e+1]``), unsigned,
    ``e`` fractional bits (``2**e`` is 1.0).

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    value_bits : int
        Magnitude bits per lane, sign not counted (1 to 31): a lane is ``value_bits + 1`` bits.
    frac_bits : int or sequence of int
        Fractional bits of the input, one for all lanes or one per lane, -31 to 31 (default 0).
    exp_bitwidth : int
        ``e``: precision of the exponent terms and the output (default 10).
    buffer_bitwidth : int
        ``B``: the sum saturates at ``2**(B-1) - 1``; ``B >= 2e + 2`` (default 32).
    round_log2 : {"exact", "quantizeml"}
        Threshold table of the logarithm rounding (default ``"exact"``, akida 2.14).
    register_every : int
        A pipeline register after every K levels of the max and adder trees (0: trees
        combinational; default 2).
    stage_registers : bool
        Registers between the stages (default True).
    flow_control : {"enable", "skid", "fifo"} or None
        How the pipeline meets the stream handshake (:mod:`shiftmax.hw.flow`); None (the
        default): the registry's ``DEFAULT_FLOW_CONTROL``, ``"fifo"``.
    lanes_per_beat : int or None
        ``None`` or ``n``: the whole row in one beat (this class). Fewer lanes per beat is the
        streaming form, built by ``StreamingShiftmax``.
    mask : bool
        Add the per-lane mask input ``i.payload.mask`` (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout({"data": ArrayLayout(signed(value_bits + 1), n),
        "mask": unsigned(n)})))   (``mask`` only with ``mask=True``)
    o : Out(stream.Signature(StructLayout({"data": ArrayLayout(unsigned(e + 1), n)})))

    Latency
    -------
    ``L + {"enable": 0, "skid": 1, "fifo": 2}[flow_control]`` with the datapath latency
    ``L = 1 + 6 * stage_registers + (stage_registers and register_every == 1)
    + 2 * ((ceil(log2(n)) - 1) // register_every)`` (the tree terms are 0 when
    ``register_every`` is 0 or ``n <= 2``): the output register, with stage registers four
    between the five stages and one inside each of stages 4 and 5 (and, in the most
    pipelined form, ``register_every = 1``, one inside stage 2), and the registers inside the
    max and adder trees.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value; a row
        too long for one beat (see :func:`shiftmax.hw.pipeline.check_one_beat_size`) names
        ``n`` and points to ``lanes_per_beat``.
    """

    unit_name = "shiftmax"

    def __init__(self, *, n: int, value_bits: int, frac_bits=_DEFAULTS["frac_bits"],
                 exp_bitwidth: int = _DEFAULTS["exp_bitwidth"],
                 buffer_bitwidth: int = _DEFAULTS["buffer_bitwidth"],
                 round_log2: str = _DEFAULTS["round_log2"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 flow_control: str | None = None, lanes_per_beat: int | None = None,
                 mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 1)
        check_lanes_per_beat(lanes_per_beat, self._n, "StreamingShiftmax")
        self._mask = check_mask(mask)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        lanes = lane_frac_bits(frac_bits, self._n)
        self._frac_bits = lanes[0] if isinstance(frac_bits, int) else lanes
        self._exp_bitwidth, self._buffer_bitwidth, self._round_log2 = check_shiftmax_params(
            exp_bitwidth=exp_bitwidth, buffer_bitwidth=buffer_bitwidth, round_log2=round_log2,
            n=self._n)
        self._register_every, self._stage_registers = check_pipeline_params(
            register_every, stage_registers)
        e = self._exp_bitwidth
        check_one_beat_size(self._n, {
            "input data (n * (value_bits + 1))": self._n * (self._value_bits + 1),
            "exponent terms (n * (2 * exp_bitwidth + 1))": self._n * (2 * e + 1),
        }, input_bits=self._n * (self._value_bits + 1 + int(self._mask)) + 4)
        in_fields = {"data": data.ArrayLayout(signed(self._value_bits + 1), self._n)}
        out_fields = {"data": data.ArrayLayout(unsigned(e + 1), self._n)}
        if self._mask:
            in_fields["mask"] = unsigned(self._n)
        super().__init__(in_layout=data.StructLayout(in_fields),
                         out_layout=data.StructLayout(out_fields), flow_control=flow_control)

    @property
    def frac_bits(self) -> int | list[int]:
        return self._frac_bits if isinstance(self._frac_bits, int) else list(self._frac_bits)

    @property
    def exp_bitwidth(self) -> int:
        return self._exp_bitwidth

    @property
    def buffer_bitwidth(self) -> int:
        return self._buffer_bitwidth

    @property
    def round_log2(self) -> str:
        return self._round_log2

    @property
    def dropped_term_bits(self) -> int:
        """The low exponent-term bits left out: no rounding of a reachable sum needs them."""
        return unneeded_term_bits(self._n, self._exp_bitwidth, self._buffer_bitwidth,
                                  self._round_log2)

    @property
    def _split_distance(self) -> bool:
        """The most pipelined form also registers the distances before their saturation."""
        return self._stage_registers and self._register_every == 1

    @property
    def datapath_latency(self) -> int:
        tree = tree_latency(self._n, self._register_every)
        return 1 + 6 * int(self._stage_registers) + int(self._split_distance) + 2 * tree

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "frac_bits": self.frac_bits,
                "exp_bitwidth": self._exp_bitwidth, "buffer_bitwidth": self._buffer_bitwidth,
                "round_log2": self._round_log2, "register_every": self._register_every,
                "stage_registers": self._stage_registers, "flow_control": self.flow_control,
                "lanes_per_beat": self._n, "mask": self._mask}

    def elaborate_datapath(self, m: Module, payload, step: InputStep) -> Value:
        n, e = self._n, self._exp_bitwidth

        def stage_register(value, name: str):
            return register(m, value, name=name) if self._stage_registers else value

        # The maximum and t, read by every lane, are registered in a copy per group of lanes.
        copies = copies_for(n) if self._stage_registers else 1

        def shared_register(value, name: str) -> Value:
            if not self._stage_registers:
                return value
            registers = replicas(m, value, copies, name=name)
            return registers[0] if copies == 1 else Cat(*registers)

        # Stage 1: floor, then the max tree; the floored lanes wait beside the tree.
        m.submodules.floor = floor = FloorInput(n=n, value_bits=self._value_bits,
                                                frac_bits=self._frac_bits)
        m.submodules.max_tree = max_tree = MaxTree(n=n, width=floor.out_bits,
                                                   register_every=self._register_every)
        m.d.comb += floor.x.eq(payload.data)
        floored = floor.floored.as_value()
        if self._mask:
            # A masked lane enters the max tree as the lowest floored value: it never raises
            # the maximum of a row with a present lane.
            mask = Value.cast(payload.mask)
            lowest = Const(-(1 << (floor.out_bits - 1)), signed(floor.out_bits))
            m.d.comb += max_tree.values.eq(lanes(
                [Mux(mask[k], lowest, floor.floored[k]) for k in range(n)], floor.out_bits))
            # Every lane masked: all outputs 0 (every distance saturates).
        else:
            m.d.comb += max_tree.values.eq(floor.floored)
        floored = delay(m, floored, max_tree.latency, name="floored")
        maximum = shared_register(max_tree.maximum, "maximum")
        floored = stage_register(floored, "floored_s1")

        # Stage 2: saturated distances (the only per-lane data kept from here on).
        # (Most pipelined, split in two: the differences, then the saturation.)
        # (Most pipelined, the raw differences travel on when the saturation would drop one
        # bit at most: a bit more per lane costs less than a LUT per kept bit.)
        m.submodules.distance = distance = Distance(
            n=n, width=floor.out_bits, exp_bitwidth=e, register_inside=self._split_distance,
            saturate=not (self._split_distance
                          and floor.out_bits <= distance_bits(floor.out_bits, e) + 1),
            copies=copies)
        m.d.comb += [distance.maximum.eq(maximum), distance.values.eq(floored)]
        distances = distance.distance.as_value()
        if self._mask:
            # A masked lane's distance saturates: a zero term and a zero output.
            late = delay(m, mask, max_tree.latency + int(self._stage_registers)
                         + distance.latency, name="mask")
            bits = distance.out_bits
            distances = Cat(*(distances[k * bits:(k + 1) * bits] | late[k].replicate(bits)
                              for k in range(n)))

        # Stage 3: exponent terms and their saturating sum. Most pipelined, the decoders move
        # in front of the stage register (after the saturation, from the registered
        # differences), so that the adder tree's first level starts from registers.
        # Term bits no rounding of a reachable sum needs are left out (exactly: term_precision).
        # Most pipelined, every term bit is decoded in two steps (half decoders, then an AND):
        # a distance bit then drives a few LUTs instead of one per term bit (docs/flow-control.md).
        dropped = self.dropped_term_bits
        m.submodules.shift_exp = shift_exp = ShiftExp(
            n=n, exp_bitwidth=e, distance_bits=distance.out_bits, dropped_bits=dropped,
            split_terms=2 * e + 1 - dropped if self._split_distance else 0)
        m.submodules.adder_tree = adder_tree = SaturatingAdderTree(
            n=n, exp_bitwidth=e, buffer_bitwidth=self._buffer_bitwidth,
            register_every=self._register_every, dropped_bits=dropped)
        if self._split_distance:
            m.d.comb += shift_exp.distance.eq(distances)
            terms = stage_register(shift_exp.term.as_value(), "term_s2")
            distances = stage_register(distances, "distance_s2")
        else:
            distances = stage_register(distances, "distance_s2")
            m.d.comb += shift_exp.distance.eq(distances)
            terms = shift_exp.term.as_value()
        m.d.comb += adder_tree.term.eq(terms)
        distances = delay(m, distances, adder_tree.latency, name="distance")
        total = stage_register(adder_tree.total, "total")
        distances = stage_register(distances, "distance_s3")

        # Stage 4: round the logarithm of the sum.
        # (With stage registers it is split in two: compares, then the selection of R.)
        m.submodules.round_log2 = round_log2 = RoundLog2(
            n=n, exp_bitwidth=e, buffer_bitwidth=self._buffer_bitwidth,
            round_log2=self._round_log2, register_inside=self._stage_registers,
            dropped_bits=dropped)
        m.d.comb += round_log2.total.eq(total)
        distances = delay(m, distances, round_log2.latency, name="distance_rl")
        shift = shared_register(round_log2.shift, "shift")
        distances = stage_register(distances, "distance_s4")

        # Stage 5: output shift (with stage registers also split in two), output register.
        m.submodules.output_shift = output_shift = OutputShift(
            n=n, exp_bitwidth=e, distance_bits=distance.out_bits,
            shift_bits=round_log2.shift_bits, register_inside=self._stage_registers,
            copies=copies)
        m.d.comb += [output_shift.distance.eq(distances), output_shift.shift.eq(shift)]
        output = output_shift.output.as_value()
        return register(m, output, name="result")
