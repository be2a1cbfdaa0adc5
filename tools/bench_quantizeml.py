#!/usr/bin/env python3
"""Time quantizeml 0.17.1's QuantizedShiftmax on a saved batch (run in the reference venv).

Called by tools/bench_golden.py; prints one JSON line {"seconds": best} and saves the outputs
beside the batch as <batch>_quantizeml.npy.
"""

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import tensorflow as tf
from quantizeml.layers import QuantizedShiftmax
from quantizeml.tensors import FixedPoint


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("batch", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--exp-bitwidth", type=int, default=10)
    parser.add_argument("--buffer-bitwidth", type=int, default=32)
    args = parser.parse_args()
    data = np.load(args.batch)
    x = FixedPoint(tf.constant(data["values"], tf.float32), int(data["value_bits"]),
                   int(data["frac_bits"]))
    layer = QuantizedShiftmax(quant_config={"buffer_bitwidth": args.buffer_bitwidth,
                                            "exp_bitwidth": args.exp_bitwidth})
    outputs = layer(x)  # builds the layer
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        outputs = layer(x)
        outputs.values.numpy()
        best = min(best, time.perf_counter() - start)
    np.save(args.batch.with_name(args.batch.stem + "_quantizeml.npy"),
            outputs.values.numpy().astype(np.int64))
    print(json.dumps({"seconds": best}))


if __name__ == "__main__":
    main()
