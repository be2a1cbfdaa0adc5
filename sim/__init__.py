"""cocotb regression of the generated Verilog against the golden model.

- ``shiftmax.sim.config``: one simulated configuration (:class:`SimConfig`: a unit of the
  registry, :mod:`shiftmax.units`, and its parameters), its names and command lines.
- ``shiftmax.sim.vectors``: input vectors (random, directed corners, exhaustive, reference)
  and the expected outputs from ``shiftmax.golden`` (numpy only); ``shiftmax.sim.directed``:
  rows on both sides of every compare the hardware makes.
- ``shiftmax.sim.axis`` and ``shiftmax.sim.unit_tests``: the cocotb bench and test module of
  the one-beat-per-row units (driver, backpressure, monitor, in-order scoreboard).
- ``shiftmax.sim.framing`` (numpy only: the contract's row framing as a model),
  ``shiftmax.sim.threshold_rows`` (rows a shifted running sum rounds wrongly),
  ``shiftmax.sim.rows`` and ``shiftmax.sim.row_tests``: the bench and test module of
  row-framed units (streaming, or with a mask: tlast, tuser, malformed rows).
- ``shiftmax.sim.runner``: generate the Verilog, build, run and read the results (shared by
  pytest, ``make sim`` and ``make regress``); ``shiftmax.sim.regress``: the matrix;
  ``shiftmax.sim.sweep``: independent jobs on a Dask cluster (the regression's, the report's).
- ``shiftmax.sim.formal``: AXI4-Stream properties and miters of generated units with sby.

Nothing here imports cocotb or Amaranth at package import time.
"""
