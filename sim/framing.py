"""The framing of row-streaming units as a model, and the output beats each row must give.

numpy only (no cocotb). A streaming unit (``lanes_per_beat`` P < n) takes a row of n elements
as R = ceil(n / P) beats of P lanes, with ``s_axis_tlast`` on the last; the contract
(``streaming.md``) says which rows it forms from whatever beats a source sends:

- A row ends at the earlier of the beat with ``tlast`` and beat R - 1.
- A row that ended at beat R - 1 without ``tlast`` is *malformed* (missing tlast), and the
  beats after it, up to and including the next ``tlast``, are dropped.
- A row whose ``tlast`` came before beat R - 1 is malformed (early tlast); its missing
  elements count as masked.
- Lanes past n in the last beat are ignored (their data and their mask bits).
- Every row, malformed or not, gives exactly one output row: R beats of P lanes for shiftmax
  (lanes past n are 0, ``m_axis_tlast`` on the last), one beat for argmax and top-K
  (``m_axis_tlast`` = 1). ``m_axis_tuser`` is 1 on the beats of a malformed row, and for
  argmax on a row with no present element, for top-K on a row with fewer than k.

A one-beat unit (P = n) has no ``tlast``: every beat is a row, never malformed.

:class:`Framer` applies these rules beat by beat (what a bench's scoreboard does as beats are
taken); :func:`form_rows` applies them to a whole list of beats; :func:`ref_row_outputs`
gives the expected output beats of formed rows from the golden model (``shiftmax.golden``).
:class:`RowShape` reads the unit's layout from its sidecar JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from shiftmax.sim.vectors import UnitShape, pack_outputs, ref_outputs, unpack_outputs

__all__ = ["RowShape", "FramedRow", "Framer", "form_rows", "OutputBeat", "RowExpectation",
           "ref_row_outputs", "SourceRow", "beats_of_rows", "well_formed_row",
           "early_tlast_row", "missing_tlast_row"]


class RowShape(UnitShape):
    """The beat layout of a unit, read from its sidecar (``unit``, ``params``, ``ports``).

    Adds to :class:`~shiftmax.sim.vectors.UnitShape` (whose ``output_fields`` are those of
    one output beat): ``lanes_per_beat`` (P; n for a one-beat unit), ``beats_per_row`` (R),
    ``streaming`` (P < n: tlast in and out), ``mask`` (the per-lane mask input), ``k``
    (top-K; 1 otherwise), ``output_user`` (the unit has ``m_axis_tuser``; without ``ports``:
    a streaming unit or one with a mask) and ``output_beats`` (output beats per row: R for
    shiftmax, 1 for argmax and top-K).
    """

    def __init__(self, unit: str, params: Mapping, ports: Mapping | None = None):
        super().__init__(unit, params)
        p = self.params.get("lanes_per_beat")
        self.lanes_per_beat = self.n if p is None else min(int(p), self.n)
        self.beats_per_row = -(-self.n // self.lanes_per_beat)
        self.streaming = self.lanes_per_beat < self.n
        self.mask = bool(self.params.get("mask", False))
        self.k = int(self.params.get("k") or 1)
        self.output_user = "m_axis_tuser" in ports if ports else (self.streaming or self.mask)
        self.output_beats = self.beats_per_row if unit == "shiftmax" else 1

    @classmethod
    def from_sidecar(cls, sidecar: Mapping) -> RowShape:
        return cls(sidecar["unit"], sidecar["params"], sidecar.get("ports"))

    def field_slots(self) -> list[tuple[int, int, int, int]]:
        """``(field, lane, offset, width)`` of every lane of an output beat, lowest first."""
        slots, offset = [], 0
        for f, (lanes, width, _signed) in enumerate(self.output_fields):
            for lane in range(lanes):
                slots.append((f, lane, offset, width))
                offset += width
        return slots

    def unpack_output(self, word: int) -> list[int]:
        """The integers of one output beat's ``m_axis_tdata``, field after field."""
        return unpack_outputs(self, word)


@dataclass(frozen=True)
class FramedRow:
    """One row as the unit forms it.

    ``elements`` and ``mask`` have n entries (a missing element is 0 and masked);
    ``missing`` marks the elements an early tlast left out; ``beats`` are the indices of the
    input beats that formed the row (counted from the last reset), the last of which is the
    beat its latency counts from; ``reason`` is ``""``, ``"early tlast"`` or
    ``"missing tlast"``.
    """

    elements: np.ndarray
    mask: np.ndarray
    missing: np.ndarray
    beats: tuple[int, ...]
    reason: str = ""

    @property
    def malformed(self) -> bool:
        return bool(self.reason)

    @property
    def last_beat(self) -> int:
        return self.beats[-1]


class Framer:
    """The unit's framing state: feed it each beat the unit takes, in order.

    :meth:`push` returns the row a beat completes (or None); :meth:`reset` forgets a
    partial row and any dropping, as the unit's reset does.
    """

    def __init__(self, *, n: int, lanes_per_beat: int):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"n must be a positive integer, not {n!r}")
        if not isinstance(lanes_per_beat, int) or not 1 <= lanes_per_beat <= n:
            raise ValueError(f"lanes_per_beat must be an integer in 1..n ({n}), "
                             f"not {lanes_per_beat!r}")
        self.n = n
        self.lanes_per_beat = lanes_per_beat
        self.beats_per_row = -(-n // lanes_per_beat)
        self.reset()

    def reset(self) -> None:
        self.index = 0  # beats pushed since the reset
        self.dropped: list[int] = []  # indices of the beats dropped after a missing tlast
        self.dropping = False
        self._start_row()

    def _start_row(self) -> None:
        self.count = 0
        self.beats: list[int] = []
        self.elements = np.zeros(self.n, dtype=np.int64)
        self.mask = np.ones(self.n, dtype=bool)  # what never arrives counts as masked
        self.arrived = np.zeros(self.n, dtype=bool)

    @property
    def in_row(self) -> bool:
        """Part of a row has arrived (or beats are being dropped)."""
        return self.count > 0 or self.dropping

    def push(self, data: Sequence[int], mask: Sequence[bool] | None = None,
             last: bool = True) -> FramedRow | None:
        """Take one beat: ``data`` and ``mask`` have P lanes; ``last`` is its tlast.

        A one-beat unit (P = n) has no tlast: pass ``last=True`` (the default).
        """
        index = self.index
        self.index += 1
        p = self.lanes_per_beat
        if len(data) != p or (mask is not None and len(mask) != p):
            raise ValueError(f"a beat has {p} lanes, not {len(data)}")
        if self.dropping:
            self.dropped.append(index)
            self.dropping = not last
            return None
        low = self.count * p
        lanes = min(p, self.n - low)  # lanes past n in the last beat are ignored
        self.elements[low:low + lanes] = np.asarray(data[:lanes], dtype=np.int64)
        self.mask[low:low + lanes] = False if mask is None else \
            np.asarray(mask[:lanes], dtype=bool)
        self.arrived[low:low + lanes] = True
        self.beats.append(index)
        self.count += 1
        if not last and self.count < self.beats_per_row:
            return None
        if last:
            reason = "" if self.count == self.beats_per_row else "early tlast"
        else:
            reason = "missing tlast"
            self.dropping = True
        row = FramedRow(self.elements, self.mask, ~self.arrived, tuple(self.beats), reason)
        self._start_row()
        return row


def form_rows(data: np.ndarray, mask: np.ndarray | None, last: np.ndarray | None, *, n: int,
              lanes_per_beat: int) -> tuple[list[FramedRow], Framer]:
    """The rows a unit forms from ``data`` (beats x P), ``mask`` (beats x P bools, or None)
    and ``last`` (one tlast per beat; None for a one-beat unit: every beat is a row).

    Returns the completed rows and the framer (its ``dropped`` beats, and ``in_row`` when the
    beats end inside a row, which gives no output until it is completed).
    """
    data = np.asarray(data, dtype=np.int64).reshape(-1, lanes_per_beat)
    framer = Framer(n=n, lanes_per_beat=lanes_per_beat)
    rows = []
    for b in range(len(data)):
        row = framer.push(data[b], None if mask is None else mask[b],
                          True if last is None else bool(last[b]))
        if row is not None:
            rows.append(row)
    return rows, framer


@dataclass(frozen=True)
class OutputBeat:
    """One expected output beat: ``data`` is checked on the bits set in ``care``."""

    data: int
    care: int
    last: int
    user: int


@dataclass
class RowExpectation:
    """The expected output of one formed row: its beats and its integers (for messages)."""

    row: FramedRow
    beats: list[OutputBeat]
    values: list[int]
    flagged: bool = False


def ref_row_outputs(shape: RowShape, rows: Sequence[FramedRow]) -> list[RowExpectation]:
    """The output beats each formed row must give, from the golden model (through the unit
    registry, :func:`~shiftmax.sim.vectors.ref_outputs`).

    ``m_axis_tuser`` is the malformed flag, or for argmax a row with no present element, for
    top-K one with fewer than k. Data is checked in full, except that a top-K value field
    naming an element an early tlast left out is not checked (it never came in).
    """
    if not rows:
        return []
    elements = np.stack([row.elements for row in rows])
    mask = np.stack([row.mask for row in rows])
    present = (~mask).sum(axis=1)
    flagged = np.array([row.malformed for row in rows])
    if shape.unit == "argmax":
        flagged |= present == 0
    elif shape.unit == "topk":
        flagged |= present < shape.k
    # An all-False mask is passed as None: bit for bit today's results.
    values = ref_outputs(shape, elements, mask if mask.any() else None)
    r = shape.output_beats
    beat_values = values
    if shape.unit == "shiftmax":
        # R beats of P lanes, lanes past n zero.
        padded = np.zeros((len(rows), r * shape.lanes_per_beat), dtype=np.int64)
        padded[:, :shape.n] = values
        beat_values = padded.reshape(len(rows) * r, shape.lanes_per_beat)
    words = pack_outputs(shape, beat_values)
    slots = shape.field_slots()
    full = sum(((1 << width) - 1) << offset for _, _, offset, width in slots)
    expectations = []
    for i, row in enumerate(rows):
        care = full
        if shape.unit == "topk" and row.missing.any():
            care = _topk_care(shape, slots, full, values[i], row)
        beats = [OutputBeat(words[i * r + b], care, int(b == r - 1), int(flagged[i]))
                 for b in range(r)]
        expectations.append(RowExpectation(row, beats, values[i].tolist(), bool(flagged[i])))
    return expectations


def _topk_care(shape: RowShape, slots, full: int, values: np.ndarray, row: FramedRow) -> int:
    """The checked bits of a top-K beat: not the value fields of elements that never came."""
    care = full
    for f, lane, offset, width in slots:
        if f == 1 and row.missing[int(values[lane])]:
            care &= ~(((1 << width) - 1) << offset)
    return care


@dataclass(frozen=True)
class SourceRow:
    """The beats a source sends for one intended row: data (beats x P), mask (beats x P
    bools) and tlast (one per beat). ``kind`` names what it is for messages and tests."""

    data: np.ndarray
    mask: np.ndarray
    last: np.ndarray
    kind: str = "well-formed"

    def __len__(self) -> int:
        return len(self.data)


def _beats(shape: RowShape, elements: np.ndarray, mask: np.ndarray, count: int,
           rng: np.random.Generator | None) -> tuple[np.ndarray, np.ndarray]:
    """``count`` beats holding ``elements`` in order; lanes past them get random data and
    random mask bits (which the unit must ignore) when ``rng`` is given, else 0."""
    p = shape.lanes_per_beat
    total = count * p
    data = np.zeros(total, dtype=np.int64)
    bits = np.zeros(total, dtype=bool)
    if rng is not None:
        data[:] = rng.integers(shape.input_low, shape.input_high + 1, size=total)
        bits[:] = rng.random(total) < 0.5
    used = min(len(elements), total)
    data[:used] = elements[:used]
    bits[:used] = mask[:used]
    return data.reshape(count, p), bits.reshape(count, p)


def well_formed_row(shape: RowShape, elements: np.ndarray, mask: np.ndarray | None = None,
                    rng: np.random.Generator | None = None) -> SourceRow:
    """A row of n elements as R beats, tlast on the last (lanes past n: random if ``rng``)."""
    elements = np.asarray(elements, dtype=np.int64)
    mask = np.zeros(shape.n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    r = shape.beats_per_row
    data, bits = _beats(shape, elements, mask, r, rng)
    last = np.zeros(r, dtype=bool)
    last[-1] = True
    return SourceRow(data, bits, last)


def early_tlast_row(shape: RowShape, elements: np.ndarray, mask: np.ndarray | None,
                    beats: int, rng: np.random.Generator | None = None) -> SourceRow:
    """The first ``beats`` (1 .. R - 1) beats of a row, tlast on the last of them."""
    if not 1 <= beats < shape.beats_per_row:
        raise ValueError(f"beats must be in 1..{shape.beats_per_row - 1}, not {beats!r}")
    row = well_formed_row(shape, elements, mask, rng)
    last = np.zeros(beats, dtype=bool)
    last[-1] = True
    return SourceRow(row.data[:beats], row.mask[:beats], last, "early tlast")


def missing_tlast_row(shape: RowShape, elements: np.ndarray, mask: np.ndarray | None,
                      extra: int, rng: np.random.Generator | None = None) -> SourceRow:
    """A row of R beats without tlast, then ``extra`` (>= 1) beats of noise, tlast on the
    last of them: the unit forms the first R beats into a malformed row and drops the rest."""
    if extra < 1:
        raise ValueError(f"extra must be at least 1, not {extra!r}")
    row = well_formed_row(shape, elements, mask, rng)
    noise_rng = rng if rng is not None else np.random.default_rng(0)
    noise, noise_mask = _beats(shape, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool),
                               extra, noise_rng)
    last = np.zeros(shape.beats_per_row + extra, dtype=bool)
    last[-1] = True
    return SourceRow(np.concatenate([row.data, noise]), np.concatenate([row.mask, noise_mask]),
                     last, "missing tlast")


def beats_of_rows(rows: Sequence[SourceRow]) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       list[int]]:
    """Concatenate source rows: data, mask and tlast of every beat, and the index of each
    row's first beat."""
    starts = [int(s) for s in np.cumsum([0] + [len(row) for row in rows[:-1]])] if rows else []
    data = np.concatenate([row.data for row in rows])
    mask = np.concatenate([row.mask for row in rows])
    last = np.concatenate([row.last for row in rows])
    return data, mask, last, starts
