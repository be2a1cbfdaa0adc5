# Hardware characterisation (included by the top-level Makefile, which defines VENV, BIN, PY,
# STAMP and puts $(BIN) on PATH).
#
#   make report            area (xc7, ECP5), Fmax (nextpnr-ecp5), latency and accuracy reports
#                          into build/report/ (see docs/results.md for the run time; results
#                          are cached per configuration, so a re-run redoes only what changed)
#   make report QUICK=1    a small subset with one nextpnr seed (a few minutes)
#   make accuracy          only the accuracy report (seconds)
#   make report-html       build/report/index.html again from the files a report run left
#
# REPORT_JOBS configurations are measured at once (default 2, one per core; the largest ones
# start first). REPORT_ARGS passes more options to tools/report.py, e.g. --fresh (ignore the
# per-configuration cache), --skip n1000 (leave out the N=1000 designs, whose xc7 synthesis
# takes most of the run) or --only KEY.

REPORT_JOBS ?= 2
REPORT_ARGS ?=

.PHONY: report accuracy report-html

report: $(STAMP) iverilog
	$(PY) tools/accuracy.py $(if $(QUICK),--quick)
	$(PY) tools/report.py $(if $(QUICK),--quick) --jobs $(REPORT_JOBS) \
		$(if $(SCHEDULER),--scheduler $(SCHEDULER)) $(REPORT_ARGS)

report-html: $(STAMP)
	$(PY) tools/report_html.py --out build/report

accuracy: $(STAMP)
	$(PY) tools/accuracy.py
