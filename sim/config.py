"""One simulated configuration: the parameters of a unit, its folder name and command lines."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields

from shiftmax.golden import ARGMAX_OUTPUTS, ROUND_LOG2_MODES
from shiftmax.golden.params import check_choice, check_frac_bits, check_int

__all__ = ["UNITS", "SIMULATORS", "SimConfig", "parse_frac_bits"]

#: The two AXI4-Stream units the generator emits.
UNITS = ("shiftmax", "argmax")
#: The simulators the regression runs on.
SIMULATORS = ("icarus", "verilator")


def parse_frac_bits(text: str) -> int | tuple[int, ...]:
    """``"3"`` -> 3, ``"-2,1"`` -> (-2, 1): the ``--frac-bits`` / ``FRAC_BITS`` syntax."""
    try:
        items = [int(item) for item in str(text).split(",")]
    except ValueError:
        raise ValueError(f"frac_bits must be an integer or a comma-separated list of integers, "
                         f"not {text!r}") from None
    return items[0] if len(items) == 1 else tuple(items)


@dataclass(frozen=True)
class SimConfig:
    """The parameters of one generated unit; ``None`` leaves the generator's default.

    ``frac_bits`` is an int or a tuple with one entry per lane (shiftmax only);
    ``exp_bitwidth``, ``buffer_bitwidth`` and ``round_log2`` apply to shiftmax, ``output`` to
    argmax, as does ``lanes_per_cycle`` (folding); ``register_every`` and
    ``stage_registers`` are the pipelining options of both.
    """

    unit: str
    n: int
    value_bits: int
    frac_bits: int | tuple[int, ...] = 0
    exp_bitwidth: int | None = None
    buffer_bitwidth: int | None = None
    round_log2: str | None = None
    output: str | None = None
    register_every: int | None = None
    stage_registers: bool | None = None
    lanes_per_cycle: int | None = None

    def __post_init__(self) -> None:
        check_choice("unit", self.unit, UNITS)
        check_int("n", self.n, 1)
        check_int("value_bits", self.value_bits, 1)
        if isinstance(self.frac_bits, list):
            object.__setattr__(self, "frac_bits", tuple(self.frac_bits))
        check_frac_bits(self.frac_bits, self.n)
        if self.unit == "argmax":
            for name in ("exp_bitwidth", "buffer_bitwidth", "round_log2"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} applies to shiftmax only, not argmax "
                                     f"(got {getattr(self, name)!r})")
            if self.frac_bits != 0:
                raise ValueError(f"frac_bits applies to shiftmax only, not argmax "
                                 f"(got {self.frac_bits!r})")
        else:
            for name in ("output", "lanes_per_cycle"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} applies to argmax only, not shiftmax "
                                     f"(got {getattr(self, name)!r})")
        if self.exp_bitwidth is not None:
            check_int("exp_bitwidth", self.exp_bitwidth, 1)
        if self.buffer_bitwidth is not None:
            check_int("buffer_bitwidth", self.buffer_bitwidth, 1)
        if self.round_log2 is not None:
            check_choice("round_log2", self.round_log2, ROUND_LOG2_MODES)
        if self.output is not None:
            check_choice("output", self.output, ARGMAX_OUTPUTS)
        if self.register_every is not None:
            check_int("register_every", self.register_every, 0)
        if self.lanes_per_cycle is not None:
            check_int("lanes_per_cycle", self.lanes_per_cycle, 1, self.n)
        if self.stage_registers is not None and not isinstance(self.stage_registers, bool):
            raise TypeError(f"stage_registers must be a bool or None, not "
                            f"{self.stage_registers!r}")

    @property
    def name(self) -> str:
        """A folder name that tells the parameters apart, e.g. ``shiftmax-n10-vb7-f0-...``."""
        if isinstance(self.frac_bits, tuple):
            text = "_".join(str(f) for f in self.frac_bits)
            if len(self.frac_bits) > 4:
                text = "h" + hashlib.sha1(text.encode()).hexdigest()[:8]
            frac = f"f{text}"
        else:
            frac = f"f{self.frac_bits}"
        parts = [self.unit, f"n{self.n}", f"vb{self.value_bits}"]
        if self.unit == "shiftmax":
            parts += [frac, _tag("e", self.exp_bitwidth), _tag("b", self.buffer_bitwidth),
                      self.round_log2 or "dflt"]
        else:
            parts.append(self.output or "dflt")
        parts += [_tag("re", self.register_every),
                  _tag("sr", None if self.stage_registers is None else int(self.stage_registers))]
        if self.lanes_per_cycle is not None:
            parts.append(f"p{self.lanes_per_cycle}")
        return "-".join(parts)

    def verilog_arguments(self) -> list[str]:
        """The options of ``shiftmax verilog UNIT ...`` that build this configuration."""
        args = [self.unit, "--n", str(self.n), "--value-bits", str(self.value_bits)]
        if self.unit == "shiftmax":
            args.append(f"--frac-bits={_frac_text(self.frac_bits)}")
        for option, value in (("--exp-bitwidth", self.exp_bitwidth),
                              ("--buffer-bitwidth", self.buffer_bitwidth),
                              ("--round-log2", self.round_log2), ("--output", self.output),
                              ("--register-every", self.register_every),
                              ("--lanes-per-cycle", self.lanes_per_cycle)):
            if value is not None:
                args += [option, str(value)]
        if self.stage_registers is not None:
            args.append("--stage-registers" if self.stage_registers else "--no-stage-registers")
        return args

    def make_variables(self) -> str:
        """The ``make sim`` variables that select this configuration (for re-run lines)."""
        names = {"unit": "UNIT", "n": "N", "value_bits": "VALUE_BITS", "frac_bits": "FRAC_BITS",
                 "exp_bitwidth": "EXP_BITWIDTH", "buffer_bitwidth": "BUFFER_BITWIDTH",
                 "round_log2": "ROUND_LOG2", "output": "OUTPUT",
                 "register_every": "REGISTER_EVERY", "stage_registers": "STAGE_REGISTERS",
                 "lanes_per_cycle": "LANES_PER_CYCLE"}
        words = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value is None or (field.name == "frac_bits" and self.unit == "argmax"):
                continue
            if field.name == "frac_bits":
                value = _frac_text(value)
            elif isinstance(value, bool):
                value = int(value)
            words.append(f"{names[field.name]}={value}")
        return " ".join(words)

    def describe(self) -> str:
        """A short human-readable summary for tables."""
        frac = _frac_text(self.frac_bits)
        if len(frac) > 12:
            frac = "per-lane"
        text = f"{self.unit} N={self.n} VB={self.value_bits}"
        if self.unit == "shiftmax":
            text += f" F={frac}"
            if self.exp_bitwidth is not None:
                text += f" E={self.exp_bitwidth}"
            if self.buffer_bitwidth is not None:
                text += f" B={self.buffer_bitwidth}"
            if self.round_log2 is not None:
                text += f" {self.round_log2}"
        elif self.output is not None:
            text += f" {self.output}"
        if self.register_every is not None:
            text += f" re={self.register_every}"
        if self.stage_registers is not None:
            text += f" sr={int(self.stage_registers)}"
        if self.lanes_per_cycle is not None:
            text += f" P={self.lanes_per_cycle}"
        return text


def _tag(prefix: str, value) -> str:
    return f"{prefix}{'D' if value is None else value}"


def _frac_text(frac_bits) -> str:
    if isinstance(frac_bits, tuple):
        return ",".join(str(f) for f in frac_bits)
    return str(frac_bits)
