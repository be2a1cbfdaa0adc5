"""The report's plots (tools/report_plots.py) and its self-contained HTML page
(tools/report_html.py), on a results dict shaped like the one tools/report.py builds."""

from __future__ import annotations

import base64
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib", reason="the plots need matplotlib (the synth extra)")

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "tests" / "report_html"
PNG = b"\x89PNG\r\n\x1a\n"


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


plots = load_tool("report_plots")
report_html = load_tool("report_html")


def entry(key: str, unit: str, n: int, lut: int, fmax: float | None, latency: int,
          group: str = "sweep", **params) -> dict:
    """One configuration's measurements, with the fields report.py's results carry."""
    result = {"key": key, "label": key, "unit": unit, "group": group,
              "params": {"n": n, "value_bits": 15, **params} if unit != "ceiling" else {},
              "sidecar_latency": latency,
              "sim": {"latency": latency, "vectors_per_clock_in": 1.0,
                      "vectors_per_clock_out": 1.0},
              "xc7": {"lut": lut, "ff": 10, "carry4": 1, "muxf": 0, "dsp": 0, "bram18": 0}}
    if fmax is not None:
        result["fmax_mhz"] = fmax
        result["pnr"] = [{"seed": 1, "fmax_mhz": fmax}]
    return result


def sample_results() -> dict[str, dict]:
    rows = [
        entry("ceiling_adder32", "ceiling", 0, 32, 350.0, 1, group="ceiling"),
        entry("shiftmax_n10_k1_s1", "shiftmax", 10, 930, 280.0, 14, register_every=1,
              stage_registers=True),
        entry("shiftmax_n10_k0_s0", "shiftmax", 10, 870, 40.0, 1, register_every=0,
              stage_registers=False),
        entry("shiftmax_n10_k2_s1", "shiftmax", 10, 830, 180.0, 9, register_every=2,
              stage_registers=True),
        entry("argmax_n10_index_k1_s1", "argmax", 10, 296, 247.0, 4, group="argmax",
              output="index", register_every=1, stage_registers=True),
        entry("argmax_n10_index_k1_s1_p2", "argmax", 10, 126, 285.0, 3, group="argmax",
              register_every=1, stage_registers=True, lanes_per_cycle=2),
        entry("shiftmax_n197_default", "shiftmax", 197, 17000, 137.0, 13, group="scale",
              register_every=2, stage_registers=True),
        entry("argmax_n197_default", "argmax", 197, 5400, None, 4, group="scale",
              register_every=2, stage_registers=True),
        entry("argmax_n10_index_k2_s1", "argmax", 10, 246, 160.0, 2, group="argmax",
              output="index", register_every=2, stage_registers=True),
    ]
    return {row["key"]: row for row in rows}


TARGETS = [
    {"name": "shiftmax N=10 VB=15, K=1, stage on: xc7 LUTs", "target": "<= 1090",
     "measured": 930, "pass": True},
    {"name": "shiftmax N=10 VB=15, K=1, stage on: ECP5 Fmax",
     "target": ">= 0.75 x ceiling = 262.50 MHz", "measured": "280.00 MHz = 0.8000 x",
     "pass": True},
    {"name": "argmax N=10 VB=15 index, K=1, stage on: xc7 LUTs", "target": "<= 150",
     "measured": 296, "pass": False},
    {"name": "argmax N=10 VB=15 index folded P=2, K=1, stage on: xc7 LUTs", "target": "<= 150",
     "measured": "n/a (not measured)", "pass": None},
]
META = {"device": "LFE5U-85F-8 CABGA381"}

REPORT_MD = """# shiftmax hardware report

Measured today on 2 cores; device LFE5U-85F-8.
Regenerate: `make report` (run time 12 s).

## Targets

| target | required | measured | result |
|---|---|---|---|
| shiftmax N=10: xc7 LUTs | <= 1090 | 930 | PASS |
| argmax N=10: xc7 LUTs | <= 150 | 296 | **FAIL** |
| argmax N=10 folded: ECP5 Fmax | >= 0.75 x ceiling | n/a | not measured |

## Measurements

| configuration | xc7 LUT | Fmax MHz |
|---|---:|---:|
| shiftmax N=10 K=1 <stage on> | 930 | 280.0 |

## Diagnosis

- shiftmax: critical path `dut.a` -> `dut.b`
  through two stages
  - nested detail
- argmax: **one** node
"""


def fake_latency(unit: str, params: dict) -> int:
    """Stands in for the hardware's ``.latency`` (the plot draws what it is given)."""
    return params["n"].bit_length() + params["register_every"] + (unit == "shiftmax")


@pytest.fixture()
def out(request) -> Path:
    """A fresh folder per test."""
    folder = OUT / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


@pytest.fixture(scope="module")
def written() -> list:
    """Every plot of the sample results, written once for the page tests."""
    folder = OUT / "plots"
    shutil.rmtree(folder, ignore_errors=True)
    return plots.write_plots(sample_results(), TARGETS, folder, META, latency_of=fake_latency)


def report_folder(out: Path, written: list) -> Path:
    """``out`` as a report run leaves it: report.md and the plots."""
    for plot in written:
        shutil.copy(plot.path, out / plot.path.name)
    (out / "report.md").write_text(REPORT_MD)
    return out


def test_every_plot_is_written_as_a_png_from_a_full_results_dict(written):
    assert [p.path.name for p in written] == [name for name, *_ in plots.PLOTS]
    for plot in written:
        data = plot.path.read_bytes()
        assert data.startswith(PNG), plot.path
        assert len(data) > 10_000, plot.path  # more than an empty canvas
        assert plot.title and plot.caption


def test_plots_without_their_data_are_not_written(out):
    # A run without the ceiling and without place and route: no Fmax, no targets plot.
    results = {key: {k: v for k, v in r.items() if k not in ("fmax_mhz", "pnr")}
               for key, r in sample_results().items() if r["unit"] != "ceiling"}
    written = {p.path.name for p in plots.write_plots(results, TARGETS, out, META,
                                                      latency_of=fake_latency)}
    assert written == {"luts_n10.png", "luts_vs_n.png", "latency_vs_n.png"}
    assert plots.write_plots({}, [], out) == []


def test_a_run_of_folded_designs_at_one_n_leaves_out_the_plots_against_n(out):
    results = {key: r for key, r in sample_results().items()
               if r["unit"] == "ceiling" or plots.is_folded(r)}
    written = {p.path.name for p in plots.write_plots(results, TARGETS, out, META,
                                                      latency_of=fake_latency)}
    assert written == {"targets_n10.png", "luts_n10.png", "fmax_vs_pipelining.png"}


def test_latency_plot_survives_a_unit_that_cannot_be_built(out):
    def broken(unit, params):
        raise ValueError(f"{unit} cannot be built here")

    assert plots.latency_vs_n(sample_results(), TARGETS, out / "latency.png", META,
                              latency_of=broken)
    assert (out / "latency.png").read_bytes().startswith(PNG)


def test_target_lines_are_the_bounds_the_report_checks():
    assert plots.lut_targets(TARGETS) == {"shiftmax": 1090, "argmax": 150}
    assert plots.fmax_fraction(TARGETS) == 0.75
    assert plots.lut_targets([]) == {} and plots.fmax_fraction([]) is None


def test_labels_name_the_variant_and_the_pipelining():
    results = sample_results()
    assert plots.short_label(results["shiftmax_n10_k1_s1"]) == "shiftmax, K=1, stage on"
    assert plots.short_label(results["argmax_n10_index_k1_s1_p2"]) == \
        "argmax index folded P=2, K=1, stage on"
    assert [r["key"] for r in plots.at_n10(results)][:3] == \
        ["shiftmax_n10_k0_s0", "shiftmax_n10_k1_s1", "shiftmax_n10_k2_s1"]


def test_page_is_self_contained_with_every_plot_embedded(out, written):
    path = report_html.write_html(report_folder(out, written), written)
    assert path == out / "index.html"
    text = path.read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", text)
    assert "<link" not in text and "<script" not in text and "@import" not in text
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)
    assert len(images) == len(written) == text.count("<img")
    assert sorted(base64.b64decode(image) for image in images) == \
        sorted(plot.path.read_bytes() for plot in written)


def test_page_puts_the_plots_after_the_targets_and_colours_the_verdicts(out, written):
    text = report_html.write_html(report_folder(out, written), written).read_text()
    order = [text.index(mark) for mark in ('<h2 id="targets"', '<h2 id="plots"',
                                           '<h2 id="measurements"', '<h2 id="diagnosis"')]
    assert order == sorted(order)
    assert '<td class="pass">PASS</td>' in text
    assert '<td class="fail"><strong>FAIL</strong></td>' in text
    assert '<td class="na">not measured</td>' in text
    assert "1 of 3 targets met, 1 missed, 1 not measured." in text
    assert '<nav><a href="#targets">Targets</a> <a href="#plots">Plots</a>' in text


def test_page_without_plot_list_finds_the_pngs_and_adds_the_accuracy_report(out, written):
    report_folder(out, written)
    shutil.copy(out / "luts_n10.png", out / "accuracy.png")
    (out / "accuracy.md").write_text("Seed 0.\n\n| N | max abs err |\n|---:|---:|\n| 10 | 0.40 |\n")
    text = report_html.write_html(out).read_text()
    assert text.count("<img") == len(plots.PLOTS) + 1
    assert text.index('<h2 id="accuracy"') > text.index('<h2 id="diagnosis"')
    assert '<td class="num">0.40</td>' in text


def test_markdown_tables_lists_and_inline_markup_render():
    html = report_html.markdown_to_html(REPORT_MD)
    assert '<h1 id="shiftmax-hardware-report">shiftmax hardware report</h1>' in html
    assert "<p>Measured today on 2 cores; device LFE5U-85F-8. Regenerate: <code>make report" \
           "</code> (run time 12 s).</p>" in html
    assert "<td>shiftmax N=10 K=1 &lt;stage on&gt;</td>" in html  # escaped
    assert '<td class="num">280.0</td>' in html  # a ---: column
    assert "<li>shiftmax: critical path <code>dut.a</code> -&gt; <code>dut.b</code> through " \
           "two stages\n<ul>\n<li>nested detail</li>\n</ul></li>" in html
    assert "<li>argmax: <strong>one</strong> node</li>" in html


def test_embed_png_rejects_a_file_that_is_not_png(out):
    (out / "not.png").write_text("hello")
    with pytest.raises(ValueError, match="path must be a PNG file"):
        report_html.embed_png(out / "not.png")


def test_page_needs_a_report_to_render(out):
    with pytest.raises(FileNotFoundError, match="run make report first"):
        report_html.write_html(out)
