"""The specification of shiftmax: a bit-exact numpy model (no Amaranth import).

It reproduces quantizeml 0.17.1's ``QuantizedShiftmax`` and akida 2.14's ``Shiftmax`` bit for
bit, plus argmax and top-K, each with an optional mask (``True`` = absent element). Every
hardware stage is tested against one of the step functions here.

>>> from shiftmax.golden import FixedPoint, quantized_shiftmax
>>> x = FixedPoint([5, -3, 12, 12], value_bits=7, frac_bits=2)
>>> quantized_shiftmax(x, exp_bitwidth=4).values
array([2, 0, 8, 8])
"""

from .argmax import ARGMAX_OUTPUTS, argmax
from .fixedpoint import FixedPoint, clamp, shift_floor
from .params import ROUND_LOG2_MODES, check_mask, check_shiftmax_params
from .round_log2 import leading_one, round_log2, round_log2_thresholds
from .shiftmax import (
    ShiftmaxSteps,
    distances,
    exp_sum,
    exp_terms,
    floor_input,
    output_shift,
    quantized_shiftmax,
    shiftmax,
    shiftmax_steps,
)
from .topk import topk

__all__ = [
    "FixedPoint",
    "quantized_shiftmax",
    "shiftmax_steps",
    "ShiftmaxSteps",
    "shiftmax",
    "argmax",
    "topk",
    "round_log2",
    "round_log2_thresholds",
    "leading_one",
    "floor_input",
    "distances",
    "exp_terms",
    "exp_sum",
    "output_shift",
    "clamp",
    "shift_floor",
    "check_shiftmax_params",
    "check_mask",
    "ROUND_LOG2_MODES",
    "ARGMAX_OUTPUTS",
]
