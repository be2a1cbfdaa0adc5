# shiftmax: generate bit-exact shiftmax/argmax Verilog and prove it against the golden model.
#
#   make verilog        generate the default shiftmax and argmax into build/verilog/
#   make test           run the test suite (golden model, Amaranth simulation, cocotb on Icarus)
#   make help           list every target
#
# Every target sets up its own virtualenv (.venv) on first use.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
PY       := $(BIN)/python
EXTRAS   ?= dev,sim,synth
STAMP    := $(VENV)/.installed-$(shell echo $(EXTRAS) | tr ',' '-')

REF_VENV ?= .venv-reference
REF_PY   := $(REF_VENV)/bin/python

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help venv verilog test test-full lint bench reference-data clean iverilog

help:
	@echo "make verilog          generate default shiftmax + argmax Verilog and sidecars in build/verilog/"
	@echo "make test             run the test suite (pytest; includes a small cocotb matrix on Icarus)"
	@echo "make test-full        the test suite with every reference case and N = 1000 in Amaranth's simulator"
	@echo "make lint             ruff"
	@echo "make bench            golden-model throughput (and quantizeml's, if $(REF_VENV) exists)"
	@echo "make reference-data   rebuild tests/data/ from quantizeml 0.17.1 and akida 2.14 (~5 min set-up)"
	@echo "make sim UNIT=shiftmax N=10 VALUE_BITS=7 [SIM=verilator SEED=.. WAVES=1]"
	@echo "                      one configuration through cocotb (docs/simulation.md lists every variable)"
	@echo "make regress [SIM=verilator] [SEED=..]"
	@echo "                      the cocotb regression matrix on Icarus (or Verilator)"
	@echo "make bench-sim        simulated vectors per second, Icarus vs Verilator"
	@echo "make report [QUICK=1] area, Fmax, latency and accuracy reports into build/report/"
	@echo "make accuracy         only the accuracy report"
	@echo "make clean            remove build/"

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

# Icarus Verilog has no PyPI build: install it from apt when we can, otherwise say how.
iverilog:
	@command -v iverilog >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Icarus Verilog with apt-get..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog; \
	  else \
	    echo "error: Icarus Verilog (iverilog >= 11) is required: sudo apt-get install iverilog" >&2; \
	    exit 1; \
	  fi; }

verilog: $(STAMP)
	$(BIN)/shiftmax verilog shiftmax --n 10 --value-bits 7 -o build/verilog/shiftmax.v
	$(BIN)/shiftmax verilog argmax --n 10 --value-bits 7 -o build/verilog/argmax.v
	@echo "Wrote build/verilog/shiftmax.v, build/verilog/argmax.v and their .json sidecars."

test: $(STAMP) iverilog
	$(PY) -m pytest $(PYTEST_ARGS)

# Every reference case (N = 1000 included) in Amaranth's simulator, and the N = 1000 shiftmax
# elaboration: several minutes more than `make test`.
test-full: $(STAMP) iverilog
	SHIFTMAX_HW_FULL=1 $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(PY) tools/bench_golden.py --reference-python $(REF_PY)

$(REF_VENV)/.installed: pyproject.toml
	@test -x $(REF_PY) || $(PYTHON) -m venv $(REF_VENV)
	$(REF_PY) -m pip install --quiet -e ".[reference]"
	@touch $@

reference-data: $(REF_VENV)/.installed
	$(REF_PY) tools/reference_data.py --out tests/data

clean:
	rm -rf build

# Simulation (cocotb regression) and characterisation (synthesis reports) targets.
-include sim/sim.mk
-include tools/report.mk
