"""The TopK unit, one beat per row: the K largest of N lanes, with their indices (and values)."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, Module, Value, signed, unsigned
from amaranth.lib import data

from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_int
from shiftmax.units import TOPK, TOPK_OUTPUTS

from .flow import FixedLatencyUnit, InputStep, check_flow_control
from .pipeline import (
    PipelinedUnit,
    UnitProperties,
    ceil_log2,
    check_lanes_per_beat,
    check_mask,
    check_one_beat_size,
    check_pipeline_params,
    register,
)
from .topk_tree import TopKTree, key_of, topk_tree_latency, value_of_key

__all__ = ["TopK", "TOPK_OUTPUTS", "topk_output_layout", "check_topk_params"]

#: Parameter defaults, as the registry declares them.
_DEFAULTS = TOPK.defaults()


def topk_output_layout(*, n: int, value_bits: int, k: int, output: str) -> data.StructLayout:
    """``data`` of a TopK result: K indices (index 0 the largest), then for index-value K values.

    As bits, index ``i`` at ``[i*IB +: IB]`` with ``IB = max(1, ceil(log2 n))`` and value ``i``
    at ``[K*IB + i*(VB+1) +: VB+1]``, two's complement (the contract's layout).
    """
    fields = {"index": data.ArrayLayout(unsigned(max(1, ceil_log2(n))), k)}
    if output == "index-value":
        fields["value"] = data.ArrayLayout(signed(value_bits + 1), k)
    return data.StructLayout(fields)


def check_topk_params(*, n, value_bits, k, output, register_every, stage_registers,
                      flow_control, mask) -> tuple:
    """Validate the parameters both TopK forms share (``n`` already checked); normalised."""
    value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
    k = check_int("k", k, 1)
    if k > n:
        raise ValueError(f"k must be at most n = {n}, not {k}")
    output = check_choice("output", output, TOPK_OUTPUTS)
    register_every, stage_registers = check_pipeline_params(register_every, stage_registers)
    flow_control = check_flow_control(flow_control)
    return value_bits, k, output, register_every, stage_registers, flow_control, check_mask(mask)


class TopK(UnitProperties, PipelinedUnit, FixedLatencyUnit):
    """top-K over the N signed lanes of a beat, one row per clock; ties go to the lower index.

    It reads the raw inputs as two's complement integers (no flooring), exactly like
    ``shiftmax.golden.topk``: the K largest, largest first, the lower index first among equal
    values, so that ``k = 1`` agrees with the Argmax. With ``mask``, a masked element ranks
    below every present one and masked elements among themselves by lower index, whatever
    their values; a row with fewer than K present elements lists the present ones first, then
    masked ones, and is flagged on ``o.payload.user``.

    Architecture: the :class:`TopKTree` (groups of 4 lanes sorted by every pairwise compare,
    then a tree of merges of sorted lists, pipelined every ``register_every`` levels), then
    the output register. With ``stage_registers``, a register
    splits every merge between its compares and its selection.

    Number format: lanes are ``value_bits + 1``-bit two's complement; indices unsigned,
    ``IB = max(1, ceil(log2 n))`` bits; values (index-value) as they came in.

    Parameters
    ----------
    n : int
        Lanes of a row, at least 2.
    value_bits : int
        Magnitude bits per lane, sign not counted (1 to 31).
    k : int
        Elements selected, 1 to ``n``.
    output : {"index", "index-value"}
        The K indices, or the K indices then the K values (default ``"index"``).
    register_every : int
        A pipeline register after every K levels of the tree (0: combinational; default 2).
    stage_registers : bool
        A register inside every merge, between its compares and its selection (default True).
    flow_control : {"enable", "skid", "fifo"} or None
        How the pipeline stalls (:mod:`shiftmax.hw.flow`); None (the default): the
        registry's ``DEFAULT_FLOW_CONTROL``, ``"fifo"``.
    lanes_per_beat : int or None
        ``None`` or ``n``: the whole row in one beat (the only form of this class; fewer lanes
        per beat is :class:`shiftmax.hw.streaming_topk.StreamingTopK`).
    mask : bool
        A per-lane mask input (default False).

    Members
    -------
    i : In(stream.Signature(StructLayout))
        ``data``: ArrayLayout(signed(value_bits + 1), n); ``mask``: unsigned(n), bit j set =
        lane j absent (only with ``mask``).
    o : Out(stream.Signature(StructLayout))
        ``data``: :func:`topk_output_layout` (K indices, then K values for index-value);
        ``user``: unsigned(1), fewer than K present elements (only with ``mask``).

    Latency
    -------
    Datapath ``1 +`` the :class:`TopKTree`'s latency (its node levels are the groups of 4
    lanes and the merges of levels 3 .. ``ceil(log2 n)``: a register after every node level
    ``l < ceil(log2 n)`` with ``l % register_every == 0``, and with ``stage_registers`` one
    inside each node level), plus what the flow-control form adds (0 for ``"enable"``, 1 for
    ``"skid"``, 2 for ``"fifo"``): edges from the input handshake to the output handshake
    with ``o.ready`` high.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value; a row
        too long for one beat names ``n`` and points to ``lanes_per_beat``.
    """

    unit_name = "topk"

    def __init__(self, *, n: int, value_bits: int, k: int, output: str = _DEFAULTS["output"],
                 register_every: int = _DEFAULTS["register_every"],
                 stage_registers: bool = _DEFAULTS["stage_registers"],
                 flow_control: str | None = None, lanes_per_beat: int | None = None,
                 mask: bool = _DEFAULTS["mask"]) -> None:
        self._n = check_int("n", n, 2)
        check_lanes_per_beat(lanes_per_beat, self._n, "StreamingTopK")
        (self._value_bits, self._k, self._output, self._register_every,
         self._stage_registers, flow_control, self._mask) = check_topk_params(
            n=self._n, value_bits=value_bits, k=k, output=output,
            register_every=register_every, stage_registers=stage_registers,
            flow_control=flow_control, mask=mask)
        width = self._value_bits + 1
        wires = {"input data (n * (value_bits + 1))": self._n * width}
        if self._mask:
            wires["compare keys (n * (value_bits + 2))"] = self._n * (width + 1)
        check_one_beat_size(self._n, wires,
                            input_bits=self._n * (width + int(self._mask)) + 4)
        in_fields = {"data": data.ArrayLayout(signed(width), self._n)}
        if self._mask:
            in_fields["mask"] = unsigned(self._n)
        out_fields = {"data": topk_output_layout(n=self._n, value_bits=self._value_bits,
                                                 k=self._k, output=self._output)}
        if self._mask:
            out_fields["user"] = unsigned(1)
        super().__init__(in_layout=data.StructLayout(in_fields),
                         out_layout=data.StructLayout(out_fields), flow_control=flow_control)

    @property
    def k(self) -> int:
        return self._k

    @property
    def output(self) -> str:
        return self._output

    @property
    def lanes_per_beat(self) -> int:
        return self._n

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def datapath_latency(self) -> int:
        return 1 + topk_tree_latency(self._n, self._register_every, self._stage_registers)

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "k": self._k,
                "output": self._output, "register_every": self._register_every,
                "stage_registers": self._stage_registers, "flow_control": self.flow_control,
                "lanes_per_beat": self._n, "mask": self._mask}

    def _payload_width(self) -> int:
        # Masked elements have no value in their key: carry it beside when it is output.
        return self._value_bits + 1 if self._mask and self._output == "index-value" else 0

    def _tree(self) -> TopKTree:
        key_width = self._value_bits + 1
        key_shape = unsigned(key_width + 1) if self._mask else signed(key_width)
        return TopKTree(n=self._n, k=self._k, key_shape=key_shape,
                        payload_width=self._payload_width(),
                        register_every=self._register_every,
                        split=self._stage_registers)

    def elaborate_datapath(self, m: Module, payload, step: InputStep) -> Value:
        m.submodules.tree = tree = self._tree()
        width = self._value_bits + 1
        for j in range(self._n):
            value = payload.data[j]
            present = ~payload.mask[j] if self._mask else None
            m.d.comb += tree.keys[j].eq(key_of(value, present=present))
            if self._payload_width():
                m.d.comb += tree.payload[j].eq(value)
        fields = [Cat(*(tree.index[i] for i in range(self._k)))]
        if self._output == "index-value":
            values = [tree.selected[i] if self._payload_width()
                      else value_of_key(tree.key[i], self._value_bits)
                      for i in range(self._k)]
            fields.append(Cat(*(Value.cast(v)[:width] for v in values)))
        if self._mask:
            # Fewer than K present: the K-th entry (sorted present first) is absent.
            fields.append(~tree.key[self._k - 1][-1])
        return register(m, Cat(*fields), name="result")
