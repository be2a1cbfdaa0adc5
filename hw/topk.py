"""The TopK unit, one beat per row: the K largest of N lanes, with their indices (and values)."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Cat, EnableInserter, Module, Signal, Value, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_int

from .pipeline import ceil_log2, check_pipeline_params, register, tree_latency
from .topk_tree import TopKTree, key_of, value_of_key

__all__ = ["TopK", "TOPK_OUTPUTS", "FLOW_CONTROLS", "topk_output_layout", "check_topk_params"]

#: The two output forms: the K indices, or the K indices followed by the K values.
TOPK_OUTPUTS = ("index", "index-value")

#: Flow control of a fixed-latency pipeline (the team's three forms, see hw/flow.py).
FLOW_CONTROLS = ("enable", "skid", "fifo")


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
                      flow_control, mask, n_minimum: int = 2) -> tuple:
    """Validate the parameters both TopK forms share; returns them normalised."""
    n = check_int("n", n, n_minimum)
    value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
    k = check_int("k", k, 1)
    if k > n:
        raise ValueError(f"k must be at most n = {n}, not {k}")
    output = check_choice("output", output, TOPK_OUTPUTS)
    register_every, stage_registers = check_pipeline_params(register_every, stage_registers)
    flow_control = check_choice("flow_control", flow_control, FLOW_CONTROLS)
    if not isinstance(mask, bool):
        raise TypeError(f"mask must be True or False, not {mask!r}")
    return n, value_bits, k, output, register_every, stage_registers, flow_control, mask


class TopK(wiring.Component):
    """top-K over the N signed lanes of a beat, one row per clock; ties go to the lower index.

    It reads the raw inputs as two's complement integers (no flooring), exactly like
    ``shiftmax.golden.topk``: the K largest, largest first, the lower index first among equal
    values, so that ``k = 1`` agrees with the Argmax. With ``mask``, a masked element ranks
    below every present one and masked elements among themselves by lower index, whatever
    their values; a row with fewer than K present elements lists the present ones first, then
    masked ones, and is flagged on ``o.payload.user``.

    Architecture: the :class:`TopKTree` (a tree of merges of sorted lists, pipelined every
    ``register_every`` levels), then the output register. With ``stage_registers``, a register
    splits the root merge between its compares and its selection.

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
        A register inside the root merge, between its compares and its selection (default True).
    flow_control : {"enable"}
        How the pipeline stalls: one clock enable ``o.ready | ~o.valid`` on every flip-flop.
    lanes_per_beat : int or None
        ``None`` or ``n``: the whole row in one beat (the only form of this class; fewer lanes
        per beat is :class:`shiftmax.hw.StreamingTopK`).
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
    ``1 + (ceil(log2(n)) - 1) // register_every + stage_registers`` (the tree term is 0 when
    ``register_every`` is 0), from the input handshake to the output handshake with
    ``o.ready`` high.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value.
    """

    unit_name = "topk"

    def __init__(self, *, n: int, value_bits: int, k: int, output: str = "index",
                 register_every: int = 2, stage_registers: bool = True,
                 flow_control: str = "enable", lanes_per_beat: int | None = None,
                 mask: bool = False) -> None:
        (self._n, self._value_bits, self._k, self._output, self._register_every,
         self._stage_registers, self._flow_control, self._mask) = check_topk_params(
            n=n, value_bits=value_bits, k=k, output=output, register_every=register_every,
            stage_registers=stage_registers, flow_control=flow_control, mask=mask)
        if lanes_per_beat is not None:
            lanes_per_beat = check_int("lanes_per_beat", lanes_per_beat, 1, self._n)
            if lanes_per_beat != self._n:
                raise ValueError(f"lanes_per_beat must be None or n = {self._n} for a "
                                 f"one-beat TopK, not {lanes_per_beat}: the streaming form "
                                 f"is StreamingTopK")
        if self._flow_control != "enable":
            raise ValueError(f"flow_control must be 'enable' for TopK, "
                             f"not {self._flow_control!r}")
        width = self._value_bits + 1
        in_fields = {"data": data.ArrayLayout(signed(width), self._n)}
        if self._mask:
            in_fields["mask"] = unsigned(self._n)
        out_fields = {"data": topk_output_layout(n=self._n, value_bits=self._value_bits,
                                                 k=self._k, output=self._output)}
        if self._mask:
            out_fields["user"] = unsigned(1)
        super().__init__({
            "i": In(stream.Signature(data.StructLayout(in_fields))),
            "o": Out(stream.Signature(data.StructLayout(out_fields))),
        })

    @property
    def n(self) -> int:
        return self._n

    @property
    def value_bits(self) -> int:
        return self._value_bits

    @property
    def k(self) -> int:
        return self._k

    @property
    def output(self) -> str:
        return self._output

    @property
    def register_every(self) -> int:
        return self._register_every

    @property
    def stage_registers(self) -> bool:
        return self._stage_registers

    @property
    def flow_control(self) -> str:
        return self._flow_control

    @property
    def mask(self) -> bool:
        return self._mask

    @property
    def lanes_per_beat(self) -> int:
        return self._n

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    @property
    def latency(self) -> int:
        root = self._stage_registers  # n >= 2: there is a root merge to split
        return 1 + tree_latency(self._n, self._register_every) + int(root)

    @property
    def input_cycles(self) -> int:
        return 1

    @property
    def beats_per_row(self) -> int:
        return 1

    @property
    def memory_bits(self) -> int:
        return 0

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "k": self._k,
                "output": self._output, "register_every": self._register_every,
                "stage_registers": self._stage_registers, "flow_control": self._flow_control,
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
                        root_register=self._stage_registers)

    def elaborate_datapath(self, m: Module, payload) -> Value:
        """The datapath from an input payload to the registered output payload (no valid)."""
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

    def elaborate(self, platform) -> Module:
        m = Module()
        ce = Signal()
        m.d.comb += ce.eq(self.o.ready | ~self.o.valid)
        datapath = Module()
        result = self.elaborate_datapath(datapath, self.i.payload)
        m.submodules.datapath = EnableInserter(ce)(datapath)
        # The valid bits travel beside the data; they alone are reset.
        valid = Signal(self.latency)
        with m.If(ce):
            m.d.sync += valid.eq(Cat(self.i.valid, valid[:-1]))
        m.d.comb += [
            self.i.ready.eq(ce),
            self.o.valid.eq(valid[-1]),
            self.o.payload.as_value().eq(result),
        ]
        return m
