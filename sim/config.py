"""One simulated configuration: a unit and its parameters, its folder name and command lines.

Everything here is derived from the registry (:mod:`shiftmax.units`): the parameters a unit
takes, their ``make sim`` variables, their CLI options and their defaults.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from shiftmax.units import UNITS, Unit, as_params, unit

__all__ = ["UNITS", "SIMULATORS", "SimConfig", "RUN_VARIABLES"]

#: The simulators the regression runs on.
SIMULATORS = ("icarus", "verilator")

#: ``make sim`` variables that are not unit parameters: the simulator, the seed, the random
#: vector count and the waveform switch.
RUN_VARIABLES = ("SIM", "SEED", "VECTORS", "WAVES")


class SimConfig:
    """A unit and the parameters given for it (the rest take the registry's defaults).

    ``SimConfig(unit="argmax", n=10, value_bits=7, output="onehot")``; the parameters read as
    attributes (``config.n``), ``None`` for one not given. Parameters are checked against the
    registry at construction (unknown names, kinds, ranges); what depends on several
    parameters is checked by the generator.
    """

    __slots__ = ("_unit", "_given")

    def __init__(self, unit: str, **params: Any) -> None:
        entry = _entry(unit)
        given = as_params(unit, {k: v for k, v in params.items() if v is not None})
        entry.resolve(given)  # raises for unknown names, bad kinds, out-of-range values
        object.__setattr__(self, "_unit", entry)
        object.__setattr__(self, "_given", tuple(
            (p.name, entry.param(p.name).check(given[p.name]))
            for p in entry.params if p.name in given))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SimConfig is immutable")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if not self._unit.has(name):
            raise AttributeError(f"{self._unit.name} has no parameter {name!r}")
        return dict(self._given).get(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SimConfig) and (self.unit, self._given) == \
            (other.unit, other._given)

    def __hash__(self) -> int:
        return hash((self.unit, self._given))

    def __reduce__(self):
        # Immutable: pickle (a Dask sweep sends configurations to its workers) rebuilds it
        # through the constructor.
        return (_rebuild, (self.unit, self.given))

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v!r}" for k, v in self._given)
        return f"SimConfig(unit={self.unit!r}, {body})"

    @property
    def unit(self) -> str:
        return self._unit.name

    @property
    def entry(self) -> Unit:
        """The unit's registry entry."""
        return self._unit

    @property
    def given(self) -> dict[str, Any]:
        """The parameters given explicitly, in the registry's order."""
        return dict(self._given)

    @property
    def params(self) -> dict[str, Any]:
        """Every parameter, defaults filled in."""
        return self._unit.resolve(self.given)

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> SimConfig:
        """The configuration ``make sim`` variables select: ``UNIT`` and one variable per
        parameter (``N=10 VALUE_BITS=7``). Empty values are left out; a variable that is not
        a parameter of the unit raises ValueError naming it."""
        name = variables.get("UNIT") or "shiftmax"
        entry = _entry(name)
        by_variable = {p.variable: p for p in entry.params}
        given = {}
        for variable, text in variables.items():
            if variable == "UNIT" or variable in RUN_VARIABLES or text == "":
                continue
            if variable not in by_variable:
                others = [u.name for u in UNITS.values()
                          if any(p.variable == variable for p in u.params)]
                hint = f" (it applies to {', '.join(others)})" if others else ""
                raise ValueError(f"{variable}={text} is not a parameter of {name}{hint}; "
                                 f"{name} takes {', '.join(by_variable)}")
            given[by_variable[variable].name] = by_variable[variable].parse(text)
        return cls(name, **given)

    @property
    def name(self) -> str:
        """A folder name that tells configurations apart, e.g. ``shiftmax-n10-vb7-rlquantizeml``."""
        parts = [self.unit]
        for name, value in self._given:
            param = self._unit.param(name)
            text = param.format(value).replace(",", "_")
            if param.kind == "frac_bits" and isinstance(value, tuple) and len(value) > 4:
                text = "h" + hashlib.sha1(text.encode()).hexdigest()[:8]
            parts.append(f"{param.tag}{text}")
        return "-".join(parts)

    def verilog_arguments(self) -> list[str]:
        """The arguments of ``shiftmax verilog`` that build this configuration (without -o)."""
        args = [self.unit]
        for name, value in self._given:
            param = self._unit.param(name)
            if param.kind == "bool":
                args.append(param.option if value else "--no-" + param.option[2:])
            else:
                args.append(f"{param.option}={param.format(value)}")
        return args

    def make_variables(self) -> str:
        """The ``make sim`` variables that select this configuration (for re-run lines)."""
        words = [f"UNIT={self.unit}"]
        words += [f"{self._unit.param(name).variable}={self._unit.param(name).format(value)}"
                  for name, value in self._given]
        return " ".join(words)

    def describe(self) -> str:
        """A short human-readable summary for tables."""
        words = [self.unit]
        for name, value in self._given:
            param = self._unit.param(name)
            text = param.format(value)
            if len(text) > 12:
                text = "per-lane"
            words.append(text if param.kind == "choice" else f"{param.tag}={text}")
        return " ".join(words)


def _rebuild(unit_name: str, given: dict[str, Any]) -> SimConfig:
    return SimConfig(unit_name, **given)


def _entry(name: str) -> Unit:
    return name.entry if isinstance(name, SimConfig) else unit(name)
