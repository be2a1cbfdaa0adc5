"""shiftmax: bit-exact hardware for the softmax stage of quantized neural networks.

- ``shiftmax.golden``: the numpy specification (quantizeml 0.17.1 / akida 2.14 bit for bit).
- ``shiftmax.hw``: Amaranth components and the Verilog emitter.
- ``shiftmax.sim``: cocotb test benches for the generated Verilog.
"""

__version__ = "0.1.0"
