# Hardware characterisation (included by the top-level Makefile, which defines VENV, BIN, PY,
# STAMP and puts $(BIN) on PATH).
#
#   make report            area (xc7, ECP5), Fmax (nextpnr-ecp5), latency and accuracy reports
#                          into build/report/ (~20-30 min on 2 cores; cached per configuration)
#   make report QUICK=1    a small subset with one nextpnr seed (a few minutes)
#   make accuracy          only the accuracy report (seconds)
#
# REPORT_ARGS passes options to tools/report.py, e.g. REPORT_ARGS="--fresh --jobs 2".

REPORT_ARGS ?=

.PHONY: report accuracy

report: $(STAMP) iverilog
	$(PY) tools/accuracy.py $(if $(QUICK),--quick)
	$(PY) tools/report.py $(if $(QUICK),--quick) $(REPORT_ARGS)

accuracy: $(STAMP)
	$(PY) tools/accuracy.py
