"""The registry of units: each unit's parameters, golden function, hardware and outputs, once.

Everything that names a unit parameter reads it from here: the ``shiftmax verilog``
subcommands and their ``--help`` (:mod:`shiftmax.cli`), the ``make sim`` variables and the
simulated configurations (:mod:`shiftmax.sim.config`), the expected outputs of the benches
(:meth:`Unit.reference`), the regression matrix (:attr:`Unit.regression`) and the report.
Adding a unit means one hardware file, one golden function and one :class:`Unit` entry in
:data:`UNITS`.

A parameter's CLI option is ``--`` plus its name with dashes (``--value-bits``), its
``make sim`` variable the name in capitals (``VALUE_BITS``). Arithmetic defaults are read from
the golden function's signature (the specification), so each default is written once.

numpy only: the hardware classes are named by import path and loaded by :meth:`Unit.build`.
"""

from __future__ import annotations

import importlib
import inspect
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from shiftmax.golden import (
    ARGMAX_OUTPUTS,
    ROUND_LOG2_MODES,
    FixedPoint,
    argmax,
    quantized_shiftmax,
    topk,
)
from shiftmax.golden.fixedpoint import MAX_VALUE_BITS
from shiftmax.golden.params import check_choice, check_frac_bits, check_int

__all__ = ["Param", "Unit", "UNITS", "REQUIRED", "FLOW_CONTROLS", "DEFAULT_FLOW_CONTROL",
           "TOPK_OUTPUTS", "unit", "index_bits"]


class _Required:
    """The default of a parameter that has none (``--n``, ``--value-bits``)."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

#: Flow control of the pipelines (see docs/flow-control.md), and the form a unit is built in
#: when none is asked for: ``"fifo"`` (chosen by measurement), or the first form a unit has
#: when it has no fifo form (the streaming argmax has only ``"enable"``).
FLOW_CONTROLS = ("enable", "skid", "fifo")
DEFAULT_FLOW_CONTROL = "fifo"


def index_bits(n: int) -> int:
    """Bits of a lane index of an ``n``-lane row: ``max(1, ceil(log2 n))``."""
    return max(1, (int(n) - 1).bit_length())


def _golden_default(function: Callable, name: str) -> Any:
    return inspect.signature(function).parameters[name].default


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected 0 or 1, not {text!r}")


def _parse_frac_bits(text: str) -> int | tuple[int, ...]:
    try:
        items = [int(item) for item in text.split(",")]
    except ValueError:
        raise ValueError(f"expected an integer or a comma-separated list of integers, "
                         f"not {text!r}") from None
    return items[0] if len(items) == 1 and "," not in text else tuple(items)


@dataclass(frozen=True)
class Param:
    """One parameter of a unit.

    ``kind`` is ``"int"``, ``"lanes"`` (an int, or None for all ``n`` lanes), ``"bool"``,
    ``"choice"`` or ``"frac_bits"`` (one int, or one per lane). ``minimum``/``maximum`` bound
    an int; ``choices`` list a choice's values. ``tag`` is the short prefix of the parameter in
    a configuration's folder name. ``group`` is the ``--help`` section.
    """

    name: str
    kind: str
    help: str
    default: Any = REQUIRED
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    tag: str = ""
    group: str = "arithmetic"
    default_text: str = ""  # how --help states the default, when not by its value

    @property
    def option(self) -> str:
        """The CLI option, ``--value-bits``."""
        return "--" + self.name.replace("_", "-")

    @property
    def variable(self) -> str:
        """The ``make sim`` variable, ``VALUE_BITS``."""
        return self.name.upper()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def parse(self, text: str) -> Any:
        """A value from its text on the command line or in a make variable.

        Raises ValueError naming the parameter.
        """
        text = str(text).strip()
        try:
            if self.kind in ("int", "lanes"):
                if self.kind == "lanes" and text.lower() in ("none", "n"):
                    return None
                return int(text)
            if self.kind == "bool":
                return _parse_bool(text)
            if self.kind == "frac_bits":
                return _parse_frac_bits(text)
            return text
        except ValueError as error:
            raise ValueError(f"{self.name}: {error}" if "expected" in str(error) else
                             f"{self.name} must be an integer, not {text!r}") from None

    def format(self, value: Any) -> str:
        """The text that :meth:`parse` reads back as ``value``."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, (tuple, list, np.ndarray)):
            return ",".join(str(int(v)) for v in value)
        return str(value)

    def check(self, value: Any) -> Any:
        """``value`` checked against the kind and range declared here; returns it normalised
        (a frac_bits list becomes a tuple). The hardware class checks what depends on other
        parameters."""
        if self.kind == "int" or (self.kind == "lanes" and value is not None):
            return check_int(self.name, value, self.minimum, self.maximum)
        if self.kind == "bool":
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"{self.name} must be True or False, not {value!r}")
            return bool(value)
        if self.kind == "choice":
            return None if value is None and self.default is None else \
                check_choice(self.name, value, self.choices)
        if self.kind == "frac_bits":
            if isinstance(value, (list, tuple, np.ndarray)):
                return tuple(int(v) for v in check_frac_bits(value, len(value)))
            return check_frac_bits(value, 1)
        return value

    def describe(self) -> str:
        """The help text with the default, as ``--help`` shows it."""
        if self.required:
            return f"{self.help} (required)"
        if self.default_text:
            return f"{self.help} (default: {self.default_text})"
        default = "n (all lanes)" if self.kind == "lanes" and self.default is None else \
            self.format(self.default) if self.kind != "bool" else \
            ("on" if self.default else "off")
        return f"{self.help} (default: {default})"


@dataclass(frozen=True)
class Unit:
    """One unit the generator emits.

    ``hardware`` and ``streaming_hardware`` name the Amaranth classes (``module:Class``) of the
    one-beat-per-row form and of the streaming form (``lanes_per_beat < n``); each takes every
    parameter as a keyword. ``golden`` computes the expected outputs of rows of raw integer
    inputs: ``golden(params, rows, mask)`` returns one int64 row per input row, the output
    fields of :meth:`output_fields` side by side. ``regression`` lists ``(vectors, params)``
    for ``make regress``; ``smoke`` the small matrix ``make test`` runs on Icarus;
    ``example`` the required parameters ``make sim`` uses when none are given.
    """

    name: str
    summary: str
    description: str
    params: tuple[Param, ...]
    hardware: str
    golden: Callable[[Mapping[str, Any], np.ndarray, np.ndarray | None], np.ndarray]
    output_fields: Callable[[Mapping[str, Any]], tuple[tuple[int, int, bool], ...]]
    streaming_hardware: str | None = None
    regression: tuple[tuple[int, Mapping[str, Any]], ...] = ()
    smoke: tuple[Mapping[str, Any], ...] = ()
    example: Mapping[str, Any] = field(default_factory=lambda: {"n": 10, "value_bits": 7})
    _index: dict[str, Param] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {p.name: p for p in self.params})

    def param(self, name: str) -> Param:
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"{self.name} has no parameter {name!r}; its parameters are "
                             f"{', '.join(self._index)}") from None

    def has(self, name: str) -> bool:
        return name in self._index

    def defaults(self) -> dict[str, Any]:
        """Every parameter with a default, at its default."""
        return {p.name: p.default for p in self.params if not p.required}

    def resolve(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` checked (names, kinds, ranges) and completed with the defaults.

        Raises TypeError/ValueError naming the parameter: unknown names, missing required
        parameters, values of the wrong kind or out of range.
        """
        for name in given:
            self.param(name)
        missing = [p.name for p in self.params if p.required and p.name not in given]
        if missing:
            raise ValueError(f"{self.name} needs {', '.join(missing)}")
        resolved = self.defaults()
        resolved.update({name: self.param(name).check(value) for name, value in given.items()})
        for param in self.params:  # rules relative to the row: one entry per lane, P <= n
            value = resolved[param.name]
            if param.kind == "frac_bits" and isinstance(value, tuple):
                check_frac_bits(value, resolved["n"])
            if param.kind == "lanes" and value is not None:
                check_int(param.name, value, param.minimum, resolved["n"])
        return resolved

    def streaming(self, params: Mapping[str, Any]) -> bool:
        """The streaming form: ``lanes_per_beat`` below ``n``."""
        p = params.get("lanes_per_beat")
        return p is not None and p < params["n"]

    def build(self, **given: Any):
        """The Amaranth component of these parameters (imports Amaranth)."""
        params = self.resolve(given)
        path = self.streaming_hardware if self.streaming(params) else self.hardware
        if path is None:
            raise ValueError(f"lanes_per_beat: {self.name} has no streaming form yet, "
                             f"not {params['lanes_per_beat']}")
        module, _, name = path.partition(":")
        return getattr(importlib.import_module(module), name)(**params)

    def reference(self, params: Mapping[str, Any], rows, mask=None) -> np.ndarray:
        """The golden outputs of ``rows`` (rows x n raw integers), one row per input row."""
        rows = np.asarray(rows, dtype=np.int64)
        return np.asarray(self.golden({**self.defaults(), **params}, rows, mask),
                          dtype=np.int64).reshape(len(rows), -1)


# --- the parameters the units share -------------------------------------------------------

def _n(minimum: int) -> Param:
    return Param("n", "int", f"lanes of a row (elements per vector); at least {minimum}",
                 minimum=minimum, metavar="N", tag="n", group="row")


VALUE_BITS = Param(
    "value_bits", "int", "magnitude bits of an input element, sign NOT counted (quantizeml's "
    "value_bits): each element is VB+1 bits of two's complement, range [-2**VB, 2**VB - 1]",
    minimum=1, maximum=MAX_VALUE_BITS, metavar="VB", tag="vb", group="row")
LANES_PER_BEAT = Param(
    "lanes_per_beat", "lanes", "elements per input beat P: fewer than N streams a row as "
    "ceil(N/P) beats with tlast (the streaming form)", default=None, minimum=1, metavar="P",
    tag="p", group="row")
MASK = Param(
    "mask", "bool", "a per-element mask input (s_axis_tuser, one bit per lane: 1 = absent, "
    "as if minus infinity)", default=False, tag="m", group="row")
REGISTER_EVERY = Param(
    "register_every", "int", "a pipeline register after every K levels of each reduction "
    "tree (0: trees purely combinational)", default=2, minimum=0, metavar="K", tag="re",
    group="pipeline")
STAGE_REGISTERS = Param(
    "stage_registers", "bool", "a register between consecutive stages of the unit (the "
    "output is always registered)", default=True, tag="sr", group="pipeline")
FLOW_CONTROL = Param(
    "flow_control", "choice", "how the pipeline stalls: 'enable' (one clock enable on every "
    "flip-flop), 'skid' (a register slice, registered s_axis_tready), 'fifo' (free-running "
    "datapath, credit-counted output FIFO)", default=None, choices=FLOW_CONTROLS,
    tag="fc", group="pipeline",
    default_text=f"{DEFAULT_FLOW_CONTROL}; the streaming units take enable or fifo")


# --- shiftmax ------------------------------------------------------------------------------

def _shiftmax_golden(params, rows, mask):
    x = FixedPoint(rows, params["value_bits"], params["frac_bits"])
    kwargs = {} if mask is None else {"mask": mask}
    return quantized_shiftmax(x, exp_bitwidth=params["exp_bitwidth"],
                              buffer_bitwidth=params["buffer_bitwidth"],
                              round_log2=params["round_log2"], **kwargs).values


def _shiftmax_outputs(params):
    lanes = params["n"] if params.get("lanes_per_beat") is None else \
        min(params["lanes_per_beat"], params["n"])
    return ((lanes, params["exp_bitwidth"] + 1, False),)


SHIFTMAX = Unit(
    name="shiftmax",
    summary="quantized shiftmax (quantizeml 0.17.1 / akida 2.14 bit for bit)",
    description="Quantized shiftmax over a row of N elements. Output element k is E+1 bits, "
                "unsigned, with E fractional bits (2**E means 1.0).",
    params=(
        _n(1), VALUE_BITS,
        Param("frac_bits", "frac_bits", "fractional bits of the input: one integer for all "
              "lanes or a comma-separated list, one per lane (e.g. --frac-bits=-2,1); "
              "negative values scale up; -31 to 31", default=0, metavar="F", tag="f"),
        Param("exp_bitwidth", "int", "exponent/output precision E: output frac_bits; "
              "exponent terms are 2**(2E - d)",
              default=_golden_default(quantized_shiftmax, "exp_bitwidth"), minimum=1,
              metavar="E", tag="e"),
        Param("buffer_bitwidth", "int", "signed sum buffer width B, sign included: the sum "
              "saturates at 2**(B-1) - 1; at least 2E+2",
              default=_golden_default(quantized_shiftmax, "buffer_bitwidth"), minimum=1,
              metavar="B", tag="b"),
        Param("round_log2", "choice", "rounding of log2(sum): 'exact' (akida 2.14, nearest "
              "power of two) or 'quantizeml' (quantizeml 0.17.1's float32 thresholds)",
              default=_golden_default(quantized_shiftmax, "round_log2"),
              choices=ROUND_LOG2_MODES, tag="rl"),
        LANES_PER_BEAT, MASK, REGISTER_EVERY, STAGE_REGISTERS, FLOW_CONTROL,
    ),
    hardware="shiftmax.hw.shiftmax:Shiftmax",
    streaming_hardware="shiftmax.hw.streaming_shiftmax:StreamingShiftmax",
    golden=_shiftmax_golden,
    output_fields=_shiftmax_outputs,
    regression=(
        # The reference configuration (defaults: E=10, B=32, exact) and its quantizeml twin.
        (2000, {"n": 10, "value_bits": 7}),
        (2000, {"n": 10, "value_bits": 7, "round_log2": "quantizeml"}),
        # Lane counts at both ends.
        (300, {"n": 1, "value_bits": 7, "register_every": 1, "stage_registers": True}),
        (20, {"n": 1000, "value_bits": 7, "round_log2": "quantizeml"}),
        # frac_bits: negative, positive, per lane (mixed signs).
        (1500, {"n": 8, "value_bits": 5, "frac_bits": -2, "exp_bitwidth": 6,
                "buffer_bitwidth": 20}),
        (1500, {"n": 12, "value_bits": 7, "frac_bits": 3, "exp_bitwidth": 4,
                "buffer_bitwidth": 10, "round_log2": "quantizeml"}),
        (1500, {"n": 4, "value_bits": 6, "frac_bits": (-2, 1, 0, 3), "exp_bitwidth": 5,
                "buffer_bitwidth": 12}),
        # B = 2e + 2 (the sum clamps as soon as two lanes tie at the maximum), wide buffers.
        (1500, {"n": 16, "value_bits": 7, "exp_bitwidth": 8, "buffer_bitwidth": 18,
                "round_log2": "quantizeml"}),
        (1000, {"n": 5, "value_bits": 15, "frac_bits": 8, "exp_bitwidth": 12,
                "buffer_bitwidth": 33, "round_log2": "quantizeml"}),
        (500, {"n": 64, "value_bits": 9, "exp_bitwidth": 10, "buffer_bitwidth": 40}),
        # Pipelining: purely combinational trees, a register after every level, in between.
        (1500, {"n": 10, "value_bits": 7, "register_every": 0, "stage_registers": False}),
        (1500, {"n": 10, "value_bits": 7, "register_every": 1, "stage_registers": True}),
        (1000, {"n": 33, "value_bits": 4, "frac_bits": 1, "exp_bitwidth": 6,
                "buffer_bitwidth": 16, "register_every": 2, "stage_registers": False}),
        (1000, {"n": 20, "value_bits": 7, "exp_bitwidth": 7, "buffer_bitwidth": 16,
                "register_every": 3, "stage_registers": True, "round_log2": "quantizeml"}),
        # Tiny configurations, every input vector.
        (200, {"n": 3, "value_bits": 2, "exp_bitwidth": 2, "buffer_bitwidth": 6}),
        (200, {"n": 2, "value_bits": 3, "exp_bitwidth": 3, "buffer_bitwidth": 8,
               "round_log2": "quantizeml", "register_every": 0, "stage_registers": False}),
        (200, {"n": 3, "value_bits": 3, "frac_bits": 1, "exp_bitwidth": 1,
               "buffer_bitwidth": 4, "register_every": 1, "stage_registers": True}),
        # Flow control: the register slice and the credit-counted FIFO.
        (1500, {"n": 10, "value_bits": 15, "frac_bits": 10, "register_every": 1,
                "flow_control": "skid"}),
        (1500, {"n": 10, "value_bits": 15, "frac_bits": 10, "register_every": 1,
                "flow_control": "fifo"}),
        # Masks on the one-beat unit.
        (1000, {"n": 10, "value_bits": 7, "mask": True}),
        # Streaming: ViT, ImageNet and LLM rows; P = 1 and P = N - 1; both round_log2 modes.
        (60, {"n": 197, "value_bits": 7, "lanes_per_beat": 16, "mask": True}),
        (60, {"n": 197, "value_bits": 7, "lanes_per_beat": 16, "round_log2": "quantizeml"}),
        (20, {"n": 1000, "value_bits": 7, "lanes_per_beat": 16, "mask": True}),
        (6, {"n": 4096, "value_bits": 7, "lanes_per_beat": 32, "mask": True}),
        (3, {"n": 4096, "value_bits": 7, "lanes_per_beat": 1}),
        (200, {"n": 12, "value_bits": 5, "frac_bits": -1, "exp_bitwidth": 4,
               "buffer_bitwidth": 10, "lanes_per_beat": 11, "mask": True}),
        (200, {"n": 7, "value_bits": 3, "exp_bitwidth": 2, "buffer_bitwidth": 6,
               "lanes_per_beat": 1, "round_log2": "quantizeml"}),
    ),
    smoke=(
        {"n": 10, "value_bits": 7},
        {"n": 4, "value_bits": 6, "frac_bits": (-2, 1, 0, 3), "exp_bitwidth": 5,
         "buffer_bitwidth": 12, "round_log2": "quantizeml", "register_every": 1,
         "stage_registers": False},
        {"n": 2, "value_bits": 3, "exp_bitwidth": 3, "buffer_bitwidth": 8,
         "register_every": 0, "stage_registers": True},
        {"n": 10, "value_bits": 15, "frac_bits": 10, "register_every": 1,
         "flow_control": "fifo"},
        # Two copies of the maximum and t, and the FIFO's 5 banks in 2 write groups.
        {"n": 20, "value_bits": 7, "exp_bitwidth": 7, "buffer_bitwidth": 16},
        {"n": 20, "value_bits": 7, "lanes_per_beat": 6, "mask": True},
    ),
)


# --- argmax --------------------------------------------------------------------------------

def _argmax_golden(params, rows, mask):
    kwargs = {} if mask is None else {"mask": mask}
    result = argmax(rows, output=params["output"], **kwargs)
    return result if params["output"] == "onehot" else result[:, np.newaxis]


def _argmax_outputs(params):
    if params["output"] == "onehot":
        return ((params["n"], 1, False),)
    return ((1, index_bits(params["n"]), False),)


ARGMAX = Unit(
    name="argmax",
    summary="index (or one-hot) of the largest element, lowest index on ties",
    description="argmax over a row of N signed elements. Output: the index, "
                "max(1, ceil(log2 N)) bits, or a one-hot word of N bits.",
    params=(
        _n(2), VALUE_BITS,
        Param("output", "choice", "result form: the lane index, or one-hot (bit k for lane k)",
              default=_golden_default(argmax, "output"), choices=ARGMAX_OUTPUTS, tag="o"),
        LANES_PER_BEAT, MASK, REGISTER_EVERY, STAGE_REGISTERS, FLOW_CONTROL,
        Param("lanes_per_cycle", "lanes", "fold the one-beat unit: compare P lanes per cycle "
              "and take a new vector every ceil(N/P) cycles, holding s_axis_tready low "
              "meanwhile (smaller, FINN-style)", default=None, minimum=1, metavar="P",
              tag="pc", group="pipeline"),
    ),
    hardware="shiftmax.hw.argmax:Argmax",
    streaming_hardware="shiftmax.hw.streaming_argmax:StreamingArgmax",
    golden=_argmax_golden,
    output_fields=_argmax_outputs,
    regression=(
        # Both outputs, both ends of N, every pipelining option.
        (2000, {"n": 10, "value_bits": 7}),
        (2000, {"n": 10, "value_bits": 7, "output": "onehot"}),
        (300, {"n": 2, "value_bits": 7}),  # the generator's smallest argmax
        (30, {"n": 1000, "value_bits": 7, "output": "index"}),
        (200, {"n": 3, "value_bits": 2, "register_every": 0, "stage_registers": False}),
        (200, {"n": 3, "value_bits": 3, "output": "onehot", "register_every": 1,
               "stage_registers": True}),
        (1500, {"n": 17, "value_bits": 15, "register_every": 2, "stage_registers": False}),
        (1000, {"n": 64, "value_bits": 3, "output": "onehot", "register_every": 3}),
        # Folded: one lane, two lanes per cycle, a short padded last part with one-hot
        # output, and a wide fold.
        (500, {"n": 10, "value_bits": 15, "register_every": 1, "lanes_per_cycle": 1}),
        (500, {"n": 10, "value_bits": 15, "register_every": 1, "lanes_per_cycle": 2}),
        (500, {"n": 11, "value_bits": 3, "output": "onehot", "lanes_per_cycle": 4,
               "register_every": 0, "stage_registers": False}),
        (30, {"n": 197, "value_bits": 7, "lanes_per_cycle": 16}),
        # Flow control, masks, and the streaming form.
        (1000, {"n": 10, "value_bits": 15, "register_every": 1, "flow_control": "skid"}),
        (1000, {"n": 10, "value_bits": 15, "output": "onehot", "flow_control": "fifo"}),
        (1000, {"n": 10, "value_bits": 7, "mask": True}),
        (40, {"n": 1000, "value_bits": 15, "lanes_per_beat": 16, "mask": True}),
        (200, {"n": 197, "value_bits": 7, "lanes_per_beat": 16, "output": "onehot"}),
        (300, {"n": 9, "value_bits": 3, "lanes_per_beat": 1, "mask": True}),
        (300, {"n": 9, "value_bits": 3, "lanes_per_beat": 8}),
    ),
    smoke=(
        {"n": 10, "value_bits": 7, "output": "onehot", "register_every": 0,
         "stage_registers": False},
        {"n": 2, "value_bits": 5},
        {"n": 10, "value_bits": 15, "register_every": 1, "lanes_per_cycle": 2},
        {"n": 20, "value_bits": 7, "lanes_per_beat": 3, "mask": True},
    ),
)


# --- top-K ---------------------------------------------------------------------------------

#: The two output forms: the K indices, or the K indices followed by the K values.
TOPK_OUTPUTS = ("index", "index-value")


def _topk_golden(params, rows, mask):
    indices, values = topk(rows, params["k"], mask=mask)
    return indices if params["output"] == "index" else np.concatenate([indices, values], -1)


def _topk_outputs(params):
    fields = ((params["k"], index_bits(params["n"]), False),)
    if params["output"] == "index-value":
        fields += ((params["k"], params["value_bits"] + 1, True),)
    return fields


TOPK = Unit(
    name="topk",
    summary="the K largest elements, largest first, lower index on ties",
    description="top-K over a row of N signed elements. Output: K indices (index 0 the "
                "largest), each max(1, ceil(log2 N)) bits, then with index-value the K "
                "values, VB+1 bits each, as they came in.",
    params=(
        _n(2), VALUE_BITS,
        Param("k", "int", "how many of the largest elements to report, 1 to N", minimum=1,
              metavar="K", tag="k", group="row"),
        Param("output", "choice", "result form: the K indices, or the K indices then their K "
              "values", default="index", choices=TOPK_OUTPUTS, tag="o"),
        LANES_PER_BEAT, MASK, REGISTER_EVERY, STAGE_REGISTERS, FLOW_CONTROL,
    ),
    hardware="shiftmax.hw.topk:TopK",
    streaming_hardware="shiftmax.hw.streaming_topk:StreamingTopK",
    golden=_topk_golden,
    output_fields=_topk_outputs,
    example={"n": 10, "value_bits": 7, "k": 3},
    regression=(
        (2000, {"n": 10, "value_bits": 7, "k": 3}),
        (1000, {"n": 10, "value_bits": 15, "k": 3, "output": "index-value",
                "register_every": 1}),
        (1000, {"n": 10, "value_bits": 7, "k": 1}),  # against argmax
        (1000, {"n": 8, "value_bits": 5, "k": 8, "output": "index-value"}),  # a full sort
        (200, {"n": 4, "value_bits": 2, "k": 2, "register_every": 0,
               "stage_registers": False}),  # every input vector
        (200, {"n": 3, "value_bits": 3, "k": 3, "output": "index-value"}),
        (1000, {"n": 10, "value_bits": 7, "k": 3, "mask": True}),
        (1000, {"n": 10, "value_bits": 7, "k": 3, "flow_control": "fifo"}),
        (20, {"n": 1000, "value_bits": 15, "k": 5, "lanes_per_beat": 4}),
        (20, {"n": 1000, "value_bits": 15, "k": 5, "lanes_per_beat": 16, "mask": True,
              "output": "index-value"}),
        (300, {"n": 27, "value_bits": 7, "k": 1, "lanes_per_beat": 1}),
        (300, {"n": 9, "value_bits": 3, "k": 4, "lanes_per_beat": 8, "mask": True}),
    ),
    smoke=(
        {"n": 10, "value_bits": 7, "k": 3, "output": "index-value"},
        {"n": 4, "value_bits": 2, "k": 4},
        {"n": 20, "value_bits": 7, "k": 3, "lanes_per_beat": 4, "mask": True},
    ),
)


#: Every unit, by name, in the order ``--help`` lists them.
UNITS: dict[str, Unit] = {u.name: u for u in (SHIFTMAX, ARGMAX, TOPK)}


def unit(name: str) -> Unit:
    """The registry entry of ``name``; ValueError naming the known units otherwise."""
    try:
        return UNITS[name]
    except KeyError:
        raise ValueError(f"unit must be one of {', '.join(repr(u) for u in UNITS)}, "
                         f"not {name!r}") from None


def as_params(unit_name: str, values: Mapping[str, Any] | Sequence[tuple[str, Any]]
              ) -> dict[str, Any]:
    """A plain dict of parameters (lists become tuples, numpy ints become ints)."""
    items = values.items() if isinstance(values, Mapping) else values
    out = {}
    for name, value in items:
        if isinstance(value, (list, np.ndarray)):
            value = tuple(int(v) for v in value)
        elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
            value = int(value)
        out[name] = value
    return out
