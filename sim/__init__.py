"""cocotb regression of the generated Verilog against the golden model.

- ``shiftmax.sim.config``: one simulated configuration (:class:`SimConfig`) and its names.
- ``shiftmax.sim.vectors``: input vectors (random, directed corners, exhaustive, reference)
  and the expected outputs from ``shiftmax.golden`` (numpy only).
- ``shiftmax.sim.axis``: the cocotb AXI4-Stream bench (driver, backpressure, monitor,
  in-order scoreboard, protocol checks).
- ``shiftmax.sim.unit_tests``: the cocotb test module run on every configuration.
- ``shiftmax.sim.runner``: generate the Verilog, build, run and read the results (shared by
  pytest, ``make sim`` and ``make regress``); ``shiftmax.sim.regress``: the matrix.

Nothing here imports cocotb or Amaranth at package import time.
"""
