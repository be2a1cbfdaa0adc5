"""The top-K tree: the K largest of N keyed lanes, largest first, lower index first on ties.

Also the helpers the two TopK units share: the key of an element (value, present, exists)
and the rank merge of two sorted lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Shape, ShapeLike, Value, unsigned
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from shiftmax.golden.params import check_int

from .pipeline import ceil_log2, check_pipeline_params, fit, register, tree_levels, wire

__all__ = ["TopKTree", "Entry", "key_of", "value_of_key", "key_greater", "merge_sorted",
           "sort_group", "register_entry", "GROUP", "tree_node_levels", "topk_tree_latency"]


@dataclass(frozen=True)
class Entry:
    """One element of a sorted list: its key, its position and what travels with it.

    ``index`` is the position inside the block the list covers (possibly 0 bits wide);
    ``payload`` is ``None`` when nothing travels beside the key.
    """

    key: Value
    index: Value
    payload: Value | None = None


def key_of(value, *, present=None, exists=None, gate: bool = True) -> Value:
    """The key an element is ranked by: a larger key ranks first.

    Without flags the key is the signed value itself. With flags it is unsigned: on top the
    ``present`` bit (absent elements rank below every present one), then the ``exists`` bit
    (a slot holding no element at all ranks below every masked one), then the value offset to
    unsigned (its sign bit inverted), forced to 0 for an absent element, so that absent
    elements tie and keep their index order whatever their values (``gate=False`` leaves
    that to the caller, whose absent elements already hold ``-2**value_bits``).
    """
    value = Value.cast(value)
    if present is None and exists is None:
        return value
    offset = Cat(value[:-1], ~value[-1])
    if present is not None and gate:
        offset = offset & Value.cast(present).replicate(len(offset))
    flags = [Value.cast(flag) for flag in (exists, present) if flag is not None]
    return Cat(offset, *flags)


def value_of_key(key: Value, value_bits: int) -> Value:
    """The signed value of a present element back from its key (see :func:`key_of`)."""
    width = value_bits + 1
    if key.shape().signed:
        return key
    return Cat(key[:width - 1], ~key[width - 1]).as_signed()


def key_greater(left: Value, right: Value) -> Value:
    """``left > right`` for two keys, as the sign bit of ``right - left``.

    Like :func:`shiftmax.hw.pipeline.is_greater`, a plain carry chain; unsigned keys are
    widened by a zero bit first, so the difference of the two is exact.
    """
    left, right = Value.cast(left), Value.cast(right)
    if not left.shape().signed:
        left, right = Cat(left, Const(0, 1)), Cat(right, Const(0, 1))
    return (right.as_signed() - left.as_signed())[-1]


def _pick(words: list[Value], code: Value) -> Value:
    """``words[code]``: a multiplexer tree on the binary number of the chosen candidate
    (xc7's LUT6 and MUXF7/F8, ECP5's PFU multiplexers), not an AND-OR over one-hot bits."""
    words = [Value.cast(w).as_unsigned() for w in words]
    if len(words) == 1:
        return words[0]
    width = max(len(w) for w in words)
    padded = words + [words[-1]] * ((1 << len(code)) - len(words))
    return Cat(*(w[:width] if len(w) >= width else Cat(w, Const(0, width - len(w)))
                 for w in padded)).word_select(code, width)


def _encode(selects: list[Value]) -> Value:
    """The binary number of the set bit of one-hot ``selects``."""
    width = max(1, ceil_log2(len(selects)))
    code = Const(0, width)
    for number, select in enumerate(selects):
        if number:
            code = code | Mux(select, number, 0)
    return code[:width]


def merge_sorted(m: Module, left: Sequence[Entry], right: Sequence[Entry], length: int, *,
                 name: str, split: bool = False, extend_index: bool = True) -> list[Entry]:
    """The first ``length`` entries of two sorted lists merged; ``left`` wins ties.

    Every entry of ``left`` comes from lower positions than every entry of ``right``, so an
    equal key keeps the left one first. With ``c[a][b] = right[b] > left[a]`` (monotone in
    both indices), ``left[a]`` lands in slot ``a + #{b: c[a][b]}`` and ``right[b]`` in slot
    ``b + #{a: not c[a][b]}``: slot ``i`` is a one-hot selection over its candidates, and only
    the compares with ``a + b < length`` are needed (``length * (length + 1) / 2`` at most).
    With ``extend_index`` the index of an output entry gains a top bit, 1 for a right entry
    (the two lists cover the two halves of a block). With ``split`` each slot's candidate
    number and both lists are registered before the multiplexers (one cycle).
    """
    la, lb = len(left), len(right)
    greater = {}
    for a in range(la):
        for b in range(lb):
            if a + b < length:
                greater[a, b] = wire(m, key_greater(right[b].key, left[a].key),
                                     name=f"{name}_gt{a}_{b}")
    def conditions(terms: list[Value]) -> Value:
        result = Const(1, 1)
        for term in terms:
            result = result & term
        return result

    # Per slot: the binary number of its candidate, whether it is a right entry, and the
    # candidates as (side, position).
    slots = []
    for i in range(length):
        chosen: list[tuple[Value, int, int]] = []
        for a in range(la):
            ahead = i - a  # right entries ahead of left[a]
            if 0 <= ahead <= lb:
                terms = ([greater[a, ahead - 1]] if ahead > 0 else []) + \
                    ([~greater[a, ahead]] if ahead < lb else [])
                chosen.append((wire(m, conditions(terms), name=f"{name}_s{i}_l{a}"), 0, a))
        for b in range(lb):
            ahead = i - b  # left entries ahead of right[b]
            if 0 <= ahead <= la:
                terms = ([~greater[ahead - 1, b]] if ahead > 0 else []) + \
                    ([greater[ahead, b]] if ahead < la else [])
                chosen.append((wire(m, conditions(terms), name=f"{name}_s{i}_r{b}"), 1, b))
        slots.append(([sel for sel, _, _ in chosen],
                      [(side, position) for _, side, position in chosen]))
    sides = [list(left), list(right)]
    if split:
        # The one-hot selects (one LUT after the compares) are registered; their binary
        # number is formed beside the multiplexers.
        slots = [([register(m, sel, name=f"{name}_s{i}_{j}_r") for j, sel in enumerate(sels)],
                  candidates) for i, (sels, candidates) in enumerate(slots)]
        sides = [[register_entry(m, e, f"{name}_{tag}{j}") for j, e in enumerate(side)]
                 for tag, side in (("l", left), ("r", right))]
    coded = []
    for i, (sels, candidates) in enumerate(slots):
        code = wire(m, _encode(sels), name=f"{name}_c{i}")
        from_right = Const(0, 1)
        for sel, (side, _) in zip(sels, candidates, strict=True):
            if side:
                from_right = from_right | sel
        coded.append((code, wire(m, from_right, name=f"{name}_fr{i}"), candidates))
    slots = coded

    out = []
    for i, (code, from_right, candidates) in enumerate(slots):
        entries = [sides[side][position] for side, position in candidates]
        key = _pick([e.key for e in entries], code)
        key = wire(m, key.as_signed() if left[0].key.shape().signed else key,
                   name=f"{name}_k{i}")
        index = _pick([e.index for e in entries], code) if len(left[0].index) else Cat()
        if extend_index:
            index = Cat(index, from_right)
        index = wire(m, index, name=f"{name}_i{i}")
        payload = None if left[0].payload is None else \
            wire(m, _pick([e.payload for e in entries], code), name=f"{name}_p{i}")
        out.append(Entry(key, index, payload))
    return out


def register_entry(m: Module, entry: Entry, name: str) -> Entry:
    """``entry`` through reset-less registers (key, index and payload)."""
    return Entry(register(m, entry.key, name=f"{name}_key"),
                 register(m, entry.index, name=f"{name}_index"),
                 None if entry.payload is None else
                 register(m, entry.payload, name=f"{name}_value"))


#: Lanes of a leaf group: sorted by one level of compares (every pair) instead of two
#: levels of merges, which would select each value twice.
GROUP = 4


def sort_group(m: Module, entries: Sequence[Entry], length: int, *, name: str,
               split: bool = False, index_bits: int = 0) -> list[Entry]:
    """The first ``length`` of a few unsorted entries (lanes of a block, lowest first), sorted.

    Every pair is compared once (``right > left``, strictly, for ``left`` the lower lane);
    an entry's rank is the number of entries ahead of it, and slot ``s`` selects the entry of
    rank ``s``. The index of an output entry is its lane in the block, ``index_bits`` wide.
    With ``split`` the number of each slot's entry and the entries are registered before the
    multiplexers.
    """
    g = len(entries)
    greater = {(i, j): wire(m, key_greater(entries[j].key, entries[i].key),
                            name=f"{name}_gt{i}_{j}")
               for i in range(g) for j in range(i + 1, g)}
    def ahead(j: int, i: int) -> Value:  # entry j ranks before entry i
        return greater[i, j] if j > i else ~greater[j, i]

    ranks = [wire(m, sum((ahead(j, i) for j in range(g) if j != i), Const(0, 2)),
                  name=f"{name}_rank{i}") if g > 1 else Const(0, 1)
             for i in range(g)]
    codes = [wire(m, _encode([ranks[i] == s for i in range(g)]), name=f"{name}_c{s}")
             for s in range(length)]
    if split:
        codes = [register(m, code, name=f"{name}_c{s}_r") for s, code in enumerate(codes)]
        entries = [Entry(register(m, e.key, name=f"{name}_e{j}_key"), e.index,
                         None if e.payload is None else
                         register(m, e.payload, name=f"{name}_e{j}_value"))
                   for j, e in enumerate(entries)]
    out = []
    for s, code in enumerate(codes):
        key = _pick([e.key for e in entries], code)
        key = wire(m, key.as_signed() if entries[0].key.shape().signed else key,
                   name=f"{name}_k{s}")
        index = wire(m, fit(code, index_bits) if index_bits else Cat(), name=f"{name}_i{s}")
        payload = None if entries[0].payload is None else \
            wire(m, _pick([e.payload for e in entries], code), name=f"{name}_p{s}")
        out.append(Entry(key, index, payload))
    return out


def tree_node_levels(n: int) -> list[int]:
    """The binary-tree levels at which the tree over ``n`` lanes has nodes: the leaf groups
    of :data:`GROUP` lanes stand for levels 1 and 2 (level 1 alone for n = 2)."""
    levels = tree_levels(n)
    if levels == 0:
        return []
    return [min(levels, 2)] + list(range(3, levels + 1))


def _registered(n: int, register_every: int, level: int) -> bool:
    """A register follows node level ``level`` of the tree over ``n`` lanes."""
    return bool(register_every) and level % register_every == 0 and level < tree_levels(n)


def topk_tree_latency(n: int, register_every: int, split: bool) -> int:
    """Cycles through a :class:`TopKTree` (see its ``Latency``)."""
    levels = tree_node_levels(n)
    return sum(_registered(n, register_every, level) for level in levels) + \
        len(levels) * int(split)


class TopKTree(wiring.Component):
    """The ``k`` largest of ``n`` keyed lanes, sorted, the lower index first among equal keys.

    Architecture: leaf groups of 4 lanes, each sorted by comparing every pair once
    (:func:`sort_group`: 6 compares and one selection per slot, where two levels of merges
    would select every value twice), then a balanced binary tree of merge nodes
    (:func:`merge_sorted`) over the groups' sorted lists. A node merges the sorted lists of
    its two children into the first ``min(k, length)`` entries. Every list of the left child
    comes from lower lanes than the right child's, so a node keeps ties in index order by
    taking the left entry first, with one compare per pair of entries that can meet in the
    first ``k`` slots and a one-hot selection per slot (no compare-exchange network, no index
    compares). As in the argmax tree, the block ``j`` of level ``l`` covers lanes
    ``[j * 2**l, (j + 1) * 2**l)``, so an entry's index is its lane in its group with the
    side bits along the way up on top: no adders and no index constants.

    Number format: keys of ``key_shape``, compared as numbers of that shape (the units encode
    masks and empty slots into the key, see :func:`key_of`); indices unsigned,
    ``max(1, ceil(log2(n)))`` bits; the payload is carried as it is.

    Parameters
    ----------
    n : int
        Lanes, at least 1.
    k : int
        Entries kept, 1 to ``n``.
    key_shape : ShapeLike
        Shape of a key (signed or unsigned).
    payload_width : int
        Bits carried beside each key (0: none).
    register_every : int
        A pipeline register after every ``register_every`` tree levels (0: combinational).
    split : bool
        A register in every node, between its compares and its selection.

    Members
    -------
    keys : In(ArrayLayout(key_shape, n))
        The keys, lane 0 in the lowest bits.
    payload : In(ArrayLayout(payload_width, n))
        Only when ``payload_width`` > 0.
    key : Out(ArrayLayout(key_shape, k))
        The keys of the selected lanes, largest first.
    index : Out(ArrayLayout(index_bits, k))
        Their lanes.
    selected : Out(ArrayLayout(payload_width, k))
        Their payloads, only when ``payload_width`` > 0.

    Latency
    -------
    With ``L = ceil(log2(n))``, node levels are the groups (standing for levels 1 and 2) and
    the merges of levels 3 .. L: a register after each node level ``l < L`` with
    ``l % register_every == 0`` (none when ``register_every`` is 0), plus, with ``split``, one
    inside each node level; the output is not registered.

    Raises
    ------
    TypeError, ValueError
        For a parameter of the wrong type or out of range.
    """

    def __init__(self, *, n: int, k: int, key_shape: ShapeLike, payload_width: int = 0,
                 register_every: int = 0, split: bool = False) -> None:
        self._n = check_int("n", n, 1)
        self._k = check_int("k", k, 1, self._n)
        self._key_shape = Shape.cast(key_shape)
        self._payload_width = check_int("payload_width", payload_width, 0)
        self._register_every, self._split = check_pipeline_params(register_every, split)
        members = {
            "keys": In(data.ArrayLayout(self._key_shape, self._n)),
            "key": Out(data.ArrayLayout(self._key_shape, self._k)),
            "index": Out(data.ArrayLayout(unsigned(self.index_bits), self._k)),
        }
        if self._payload_width:
            members["payload"] = In(data.ArrayLayout(unsigned(self._payload_width), self._n))
            members["selected"] = Out(data.ArrayLayout(unsigned(self._payload_width), self._k))
        super().__init__(members)

    @property
    def n(self) -> int:
        return self._n

    @property
    def k(self) -> int:
        return self._k

    @property
    def index_bits(self) -> int:
        return max(1, ceil_log2(self._n))

    def _registered(self, level: int) -> bool:
        return _registered(self._n, self._register_every, level)

    @property
    def latency(self) -> int:
        return topk_tree_latency(self._n, self._register_every, self._split)

    def _register_level(self, m: Module, items: list[list[Entry]], level: int):
        if not self._registered(level):
            return items
        return [[Entry(register(m, e.key, name=f"topk_l{level}_{j}_k{i}"),
                       register(m, e.index, name=f"topk_l{level}_{j}_i{i}"),
                       None if e.payload is None else
                       register(m, e.payload, name=f"topk_l{level}_{j}_p{i}"))
                 for i, e in enumerate(item)]
                for j, item in enumerate(items)]

    def elaborate(self, platform) -> Module:
        m = Module()
        lanes = [Entry(Value.cast(self.keys[j]), Cat(),
                       Value.cast(self.payload[j]) if self._payload_width else None)
                 for j in range(self._n)]
        node_levels = tree_node_levels(self._n)
        if not node_levels:  # one lane
            items = [lanes]
        for level in node_levels:
            if level <= 2:
                size = min(GROUP, 1 << level)
                items = [sort_group(m, lanes[j:j + size], min(self._k, len(lanes[j:j + size])),
                                    name=f"topk_g{j // size}", split=self._split,
                                    index_bits=level)
                         for j in range(0, self._n, size)]
                items = self._register_level(m, items, level)
                continue
            merged = []
            for j in range(0, len(items), 2):
                group = items[j:j + 2]
                if len(group) == 1:  # a lone block: its indices gain a leading 0
                    lone = [Entry(e.key, Cat(e.index, Const(0, 1)), e.payload)
                            for e in group[0]]
                    if self._split:  # in step with the merges beside it
                        lone = [Entry(register(m, e.key), register(m, e.index),
                                      None if e.payload is None else register(m, e.payload))
                                for e in lone]
                    merged.append(lone)
                    continue
                length = min(self._k, len(group[0]) + len(group[1]))
                merged.append(merge_sorted(
                    m, group[0], group[1], length, name=f"topk_n{level}_{j // 2}",
                    split=self._split))
            items = self._register_level(m, merged, level)
        (result,) = items
        index_bits = self.index_bits
        for i, entry in enumerate(result):
            index = entry.index if len(entry.index) else Const(0, index_bits)
            m.d.comb += [self.key[i].eq(entry.key), self.index[i].eq(index)]
            if self._payload_width:
                m.d.comb += self.selected[i].eq(entry.payload)
        return m
