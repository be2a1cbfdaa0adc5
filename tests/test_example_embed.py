"""The embedding example (docs/examples/embed.py) runs as documented and agrees with the model."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
PATH = ROOT / "docs" / "examples" / "embed.py"


def load_example():
    spec = importlib.util.spec_from_file_location("embed_example", PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["embed_example"] = module
    spec.loader.exec_module(module)
    return module


embed = load_example()


@pytest.mark.parametrize("flow_control", ["enable", "skid", "fifo"])
def test_classifier_head_answers_every_row_like_the_golden_model(flow_control):
    rng = np.random.default_rng(4)
    rows = rng.integers(-(1 << embed.VALUE_BITS), 1 << embed.VALUE_BITS, size=(80, embed.N))
    rows[::6] = rows[::6, :1]                  # every lane equal: label 0, a tenth each
    actual = embed.rtl_head(rows, flow_control=flow_control, seed=2, gap=0.3, stall=0.4)
    assert actual == embed.ref_head(rows)


def test_classifier_head_takes_one_row_per_clock():
    rows = np.random.default_rng(5).integers(-100, 100, size=(60, embed.N))
    taken: list[int] = []
    assert embed.rtl_head(rows, gap=0.0, stall=0.0, taken=taken) == embed.ref_head(rows)
    assert taken == list(range(taken[0], taken[0] + len(rows)))


def test_the_example_runs_as_a_script(capsys):
    embed.main()
    assert "every (label, confidence) matches the golden model" in capsys.readouterr().out
