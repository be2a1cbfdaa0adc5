"""The report's plots (tools/report_plots.py) and its self-contained HTML page
(tools/report_html.py), on a results dict shaped like the one tools/report.py builds."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path

import pytest
from tool_modules import load_tool

pytest.importorskip("matplotlib", reason="the plots need matplotlib (the synth extra)")

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "tests" / "report_html"
PNG = b"\x89PNG\r\n\x1a\n"


plots = load_tool("report_plots")
report_html = load_tool("report_html")


def label(unit: str, params: dict, wrapper: str) -> str:
    """A design's label as tools/report.py writes it."""
    if unit == "ceiling":
        return "ceiling: registered 32-bit adder"
    text = f"{unit} N={params['n']} VB=15"
    if unit == "argmax":
        text += f" {params.get('output', 'index')}"
        if params.get("lanes_per_cycle"):
            text += f" folded P={params['lanes_per_cycle']}"
    text += f" K={params['register_every']} stage={'on' if params['stage_registers'] else 'off'}"
    text += f" {params['flow_control']}" if "flow_control" in params else ""
    return text + ("" if wrapper == "chain" else f" [{wrapper} wrapper]")


def entry(key: str, unit: str, n: int, lut: int, fmax: float | None, latency: int,
          group: str = "sweep", wrapper: str = "chain", **params) -> dict:
    """One configuration's measurements, with the fields report.py's results carry."""
    result = {"key": key, "label": label(unit, {"n": n, **params}, wrapper), "unit": unit,
              "group": group, "wrapper": wrapper,
              "params": {"n": n, "value_bits": 15, **params} if unit != "ceiling" else {},
              "sidecar_latency": latency,
              "sim": {"latency": latency, "vectors_per_clock_in": 1.0,
                      "vectors_per_clock_out": 1.0},
              "xc7": {"lut": lut, "ff": 10, "carry4": 1, "muxf": 0, "dsp": 0, "bram18": 0}}
    if fmax is not None:
        result["fmax_mhz"] = fmax
        result["fmax_min_mhz"] = fmax - 5
        result["pnr"] = [{"seed": 1, "fmax_mhz": fmax - 5}, {"seed": 2, "fmax_mhz": fmax},
                         {"seed": 3, "fmax_mhz": fmax + 4}]
    return result


def sample_results() -> dict[str, dict]:
    rows = [
        entry("ceiling_adder32", "ceiling", 0, 32, 350.0, 1, group="ceiling"),
        entry("ceiling_adder32_lfsr", "ceiling", 0, 32, 340.0, 1, group="ceiling",
              wrapper="lfsr"),
        entry("shiftmax_n10_k1_s1_fifo", "shiftmax", 10, 930, 300.0, 14, group="flow",
              register_every=1, stage_registers=True, flow_control="fifo"),
        entry("shiftmax_n10_k1_s1_fifo_lfsr", "shiftmax", 10, 935, 290.0, 14, group="flow",
              wrapper="lfsr", register_every=1, stage_registers=True, flow_control="fifo"),
        entry("shiftmax_n10_k1_s1_enable", "shiftmax", 10, 925, 270.0, 14, group="flow",
              register_every=1, stage_registers=True, flow_control="enable"),
        entry("shiftmax_n10_k0_s0", "shiftmax", 10, 870, 40.0, 1, register_every=0,
              stage_registers=False, flow_control="fifo"),
        entry("argmax_n10_index_k1_s1_fifo", "argmax", 10, 296, 247.0, 4, group="flow",
              output="index", register_every=1, stage_registers=True, flow_control="fifo"),
        entry("argmax_n10_index_k1_s1_p2", "argmax", 10, 126, 285.0, 3, group="argmax",
              register_every=1, stage_registers=True, lanes_per_cycle=2, flow_control="fifo"),
        entry("shiftmax_n197_default_fifo", "shiftmax", 197, 17000, 137.0, 13, group="scale",
              register_every=2, stage_registers=True, flow_control="fifo"),
        entry("argmax_n197_default", "argmax", 197, 5400, None, 4, group="scale",
              register_every=2, stage_registers=True, flow_control="fifo"),
        entry("argmax_n10_index_k2_s1", "argmax", 10, 246, 160.0, 2, group="argmax",
              output="index", register_every=2, stage_registers=True, flow_control="fifo"),
    ]
    # Streaming shiftmax rows: two P at N=197 and two N at P=16 (the streaming plots).
    for n, p, lut, fmax in ((197, 4, 650, 140.0), (197, 16, 1900, 259.0),
                            (1000, 16, 2000, None)):
        rows.append(entry(f"stream_shiftmax_n{n}_p{p}", "shiftmax", n, lut, fmax, 40,
                          group="streaming", lanes_per_beat=p, register_every=1,
                          stage_registers=True, flow_control="fifo"))
    return {row["key"]: row for row in rows}


#: Targets as tools/report.py's check_targets writes them (names after the rows).
TARGETS = [
    {"name": "shiftmax N=10 VB=15 F=10 E=10 B=32, K=1, stage on, fifo: throughput",
     "target": "1 vector per clock", "measured": "1.00 in, 1.00 out", "pass": True},
    {"name": "shiftmax N=10 VB=15 F=10 E=10 B=32, K=1, stage on, fifo: xc7 LUTs",
     "target": "<= 1090", "measured": 930, "pass": True},
    {"name": "shiftmax N=10 VB=15 F=10 E=10 B=32, K=1, stage on, fifo: ECP5 Fmax",
     "target": ">= 0.85 x ceiling = 297.50 MHz (median, 3 seeds)",
     "measured": "300.00 MHz = 0.8571 x", "pass": True},
    {"name": "shiftmax N=10 VB=15 F=10 E=10 B=32, K=1, stage on, fifo: ECP5 Fmax",
     "target": ">= 0.8 x ceiling = 280.00 MHz (every seed, 3 seeds)",
     "measured": "295.00 MHz = 0.8429 x", "pass": True},
    {"name": "shiftmax N=10 VB=15 F=10 E=10 B=32, K=1, stage on, fifo: ECP5 Fmax, "
             "lfsr wrapper", "target": ">= 0.8 x ceiling = 272.00 MHz (median, 3 seeds)",
     "measured": "290.00 MHz = 0.8529 x", "pass": True},
    {"name": "argmax N=10 VB=15 index, one vector per clock, K=1, stage on, fifo: ECP5 Fmax",
     "target": ">= 0.8 x ceiling = 280.00 MHz (median, 3 seeds)",
     "measured": "247.00 MHz = 0.7057 x", "pass": False},
    {"name": "argmax N=10 VB=15 index folded P=2 (1 vector / 5 clocks), K=1, stage on: "
             "xc7 LUTs", "target": "<= 150", "measured": 126, "pass": True},
    {"name": "argmax N=10 VB=15 index folded P=1 (1 vector / 10 clocks), K=1, stage on: "
             "xc7 LUTs", "target": "<= 150", "measured": "n/a (not measured)", "pass": None},
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
    # A run without the ceilings and without place and route: no Fmax plot.
    results = {key: {k: v for k, v in r.items() if k not in ("fmax_mhz", "pnr")}
               for key, r in sample_results().items() if r["unit"] != "ceiling"}
    written = {p.path.name for p in plots.write_plots(results, TARGETS, out, META,
                                                      latency_of=fake_latency)}
    assert written == {"targets.png", "luts_n10.png", "luts_vs_n.png", "latency_vs_n.png",
                       "stream_luts_vs_n.png", "stream_vs_p.png"}
    assert plots.write_plots({}, [], out) == []


def test_streaming_plots_need_two_n_or_two_p(out):
    results = sample_results()
    assert plots.stream_vs_p(results, TARGETS, out / "p.png", META)
    assert plots.stream_area_vs_n(results, TARGETS, out / "n.png", META)
    one = {k: r for k, r in results.items() if k != "stream_shiftmax_n197_p4"}
    assert not plots.stream_vs_p(one, TARGETS, out / "p1.png", META)
    one = {k: r for k, r in results.items() if k != "stream_shiftmax_n1000_p16"}
    assert not plots.stream_area_vs_n(one, TARGETS, out / "n1.png", META)


def test_a_run_of_folded_designs_at_one_n_leaves_out_the_plots_against_n(out):
    results = {key: r for key, r in sample_results().items()
               if r["unit"] == "ceiling" or plots.is_folded(r)}
    written = {p.path.name for p in plots.write_plots(results, TARGETS, out, META,
                                                      latency_of=fake_latency)}
    assert written == {"targets.png", "luts_n10.png", "fmax_vs_pipelining.png"}


def test_latency_plot_survives_a_unit_that_cannot_be_built(out):
    def broken(unit, params):
        raise ValueError(f"{unit} cannot be built here")

    assert plots.latency_vs_n(sample_results(), TARGETS, out / "latency.png", META,
                              latency_of=broken)
    assert (out / "latency.png").read_bytes().startswith(PNG)


def test_target_bounds_are_tied_to_the_design_each_target_is_checked_on():
    results = sample_results()
    bounds = [(b.key, b.quantity, b.value, b.upper) for b in
              plots.target_bounds(results, TARGETS)]
    assert bounds == [
        ("shiftmax_n10_k1_s1_fifo", "lut", 1090, True),
        ("shiftmax_n10_k1_s1_fifo", "fmax_mhz", pytest.approx(0.85 * 350), False),
        ("shiftmax_n10_k1_s1_fifo", "fmax_min_mhz", pytest.approx(0.8 * 350), False),
        # the lfsr wrapper's row, against the lfsr wrapper's ceiling
        ("shiftmax_n10_k1_s1_fifo_lfsr", "fmax_mhz", pytest.approx(0.8 * 340), False),
        # "one vector per clock": not the folded row
        ("argmax_n10_index_k1_s1_fifo", "fmax_mhz", pytest.approx(0.8 * 350), False),
        ("argmax_n10_index_k1_s1_p2", "lut", 150, True),
    ]  # the P=1 target names no measured design: left out


def test_a_target_with_a_key_is_tied_to_that_design():
    target = {**TARGETS[1], "name": "the reference row: xc7 LUTs", "key": "shiftmax_n10_k0_s0"}
    assert [(b.key, b.value) for b in plots.target_bounds(sample_results(), [target])] == \
        [("shiftmax_n10_k0_s0", 1090)]


def test_margins_measure_the_distance_to_each_bound():
    rows = {name: (margin, note, verdict) for name, margin, note, verdict in
            plots.margins(TARGETS[:2] + TARGETS[5:])}
    assert rows[TARGETS[0]["name"]] == (None, "PASS", True)
    assert rows[TARGETS[1]["name"]] == (pytest.approx(100 * (1090 - 930) / 1090),
                                        "930 vs <= 1090", True)
    assert rows[TARGETS[5]["name"]][0] == pytest.approx(100 * (247 - 280) / 280)
    assert rows[TARGETS[7]["name"]] == (None, "not measured", None)


def test_labels_name_the_variant_the_pipelining_the_flow_control_and_the_wrapper():
    results = sample_results()
    assert plots.short_label(results["shiftmax_n10_k1_s1_fifo"]) == \
        "shiftmax, K=1, stage on, fifo"
    assert plots.short_label(results["shiftmax_n10_k1_s1_fifo_lfsr"]) == \
        "shiftmax, K=1, stage on, fifo [lfsr wrapper]"
    assert plots.short_label(results["argmax_n10_index_k1_s1_p2"]) == \
        "argmax index folded P=2, K=1, stage on, fifo"
    assert [r["key"] for r in plots.at_n10(results)][0] == "shiftmax_n10_k0_s0"


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


def test_repeated_headings_get_distinct_anchors():
    html = report_html.markdown_to_html("### a: cells\n\ntext\n\n### a: cells\n")
    assert re.findall(r'id="([^"]+)"', html) == ["a-cells", "a-cells-2"]
