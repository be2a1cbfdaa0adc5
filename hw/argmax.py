"""The Argmax unit: AXI4-Stream in, index (or one-hot) of the largest lane out."""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Const, Module, Value

from shiftmax.golden.argmax import ARGMAX_OUTPUTS
from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_int

from .argmax_tree import ArgmaxTree
from .pipeline import ceil_log2, check_pipeline_params, register, tree_latency
from .stream import AxiStreamUnit

__all__ = ["Argmax"]


class Argmax(AxiStreamUnit):
    """argmax over N signed lanes as an AXI4-Stream unit; ties go to the lowest index.

    It reads the raw inputs as two's complement integers (no flooring, so no ties are
    created), exactly like ``shiftmax.golden.argmax``.

    Architecture: the :class:`ArgmaxTree` (compare-select tree whose select bits form the
    index), then for ``output="onehot"`` a decoder ``1 << index``, then the output
    register. With ``stage_registers`` a register separates the tree from the decoder (there is
    no second stage for ``output="index"``, so it changes nothing there).

    Number format: input lane k at ``s_axis_tdata[k*(value_bits+1) +: value_bits+1]``, two's
    complement. Output: the index, unsigned, ``max(1, ceil(log2(n)))`` bits; or one-hot, ``n``
    bits, bit k set for lane k.

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
        Register between the tree and the one-hot decoder (default True).

    Members
    -------
    s_axis_tdata : In(n * (value_bits + 1)); s_axis_tvalid : In(1); s_axis_tready : Out(1)
    m_axis_tdata : Out(index_bits or n); m_axis_tvalid : Out(1); m_axis_tready : In(1)

    Latency
    -------
    ``1 + (ceil(log2(n)) - 1) // register_every + (stage_registers and output == "onehot")``
    (the tree term is 0 when ``register_every`` is 0).

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range, naming it and the value.
    """

    unit_name = "argmax"

    def __init__(self, *, n: int, value_bits: int, output: str = "index",
                 register_every: int = 2, stage_registers: bool = True) -> None:
        self._n = check_int("n", n, 2)
        self._value_bits = check_int("value_bits", value_bits, 1, MAX_VALUE_BITS)
        self._output = check_choice("output", output, ARGMAX_OUTPUTS)
        self._register_every, self._stage_registers = check_pipeline_params(
            register_every, stage_registers)
        out_width = self._n if self._output == "onehot" else max(1, ceil_log2(self._n))
        super().__init__(in_width=self._n * (self._value_bits + 1), out_width=out_width)

    @property
    def n(self) -> int:
        return self._n

    @property
    def value_bits(self) -> int:
        return self._value_bits

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
    def latency(self) -> int:
        decoder_register = self._stage_registers and self._output == "onehot"
        return 1 + tree_latency(self._n, self._register_every) + int(decoder_register)

    @property
    def params(self) -> dict[str, Any]:
        return {"n": self._n, "value_bits": self._value_bits, "output": self._output,
                "register_every": self._register_every,
                "stage_registers": self._stage_registers}

    def elaborate_datapath(self, m: Module, data: Value) -> Value:
        m.submodules.tree = tree = ArgmaxTree(n=self._n, value_bits=self._value_bits,
                                              register_every=self._register_every)
        m.d.comb += tree.values.eq(data)
        index = tree.index
        if self._output == "index":
            return register(m, index, name="result")
        if self._stage_registers:
            index = register(m, index, name="index")
        onehot = (Const(1, self._n) << index)[:self._n]
        return register(m, onehot, name="result")
