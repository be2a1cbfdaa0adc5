"""The hardware report as one self-contained HTML page: build/report/index.html.

    python tools/report_html.py [--out build/report]     # from the files a report run left

The page is report.md (targets, measurements, diagnosis) rendered to HTML with the plots
right after the targets and the accuracy report (accuracy.md, accuracy.png) at the end. The
plots are embedded as base64 PNG and the style is inline: the file can be mailed or opened
offline, and loads nothing from the network. PASS and FAIL cells are coloured.

``tools/report.py`` calls :func:`write_html` after writing report.md and the plots (with the
``Plot`` list of ``report_plots.write_plots`` for titles and captions); without one, the PNGs
of ``report_plots.PLOTS`` found in the folder are used, then any other PNG.
"""

from __future__ import annotations

import argparse
import base64
import html
import re
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["embed_png", "figure_html", "markdown_to_html", "page", "write_html"]

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #1a1a1a; line-height: 1.45; }
h1 { border-bottom: 2px solid #ccc; padding-bottom: .2em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .15em; margin-top: 1.8em; }
nav { background: #f5f5f5; padding: .5em 1em; border-radius: 4px; font-size: .9em; }
nav a { margin-right: 1.2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .25em .5em; vertical-align: top; }
th { background: #f0f0f0; }
tr:nth-child(even) td { background: #fafafa; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.pass { background: #d9f2d9 !important; font-weight: 600; }
td.fail { background: #f8d3d3 !important; font-weight: 600; }
td.na { color: #777; }
code { background: #f3f3f3; padding: 0 .2em; border-radius: 3px; font-size: .92em; }
pre { background: #f3f3f3; padding: .6em; overflow-x: auto; }
figure { margin: 1.2em 0; }
figure img { max-width: 100%; border: 1px solid #e3e3e3; }
figcaption { font-size: .9em; color: #444; }
p.summary { font-size: 1.05em; }
.wide { overflow-x: auto; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(520px, 1fr));
         gap: 1em; }
"""


# --------------------------------------------------------------------------------------------
# Markdown (the subset report.md and accuracy.md use)


def _inline(text: str) -> str:
    """Escape, then `code`, **bold**, *emphasis* and [links](target)."""
    parts = re.split(r"(`[^`]*`)", text)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", part)
        part = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<em>\1</em>", part)
        part = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)",
                      lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>', part)
        out.append(part)
    return "".join(out)


def _cells(line: str) -> list[str]:
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|"):
        line = line[:-1]
    return [cell.strip() for cell in line.split("|")]


_NUMBER = re.compile(r"[-+]?[\d,]*\.?\d+(e[-+]?\d+)?%?( \(.*\))?", re.IGNORECASE)


def _cell_class(text: str, right: bool) -> str:
    plain = text.replace("*", "").strip()
    classes = []
    if plain == "PASS":
        classes.append("pass")
    elif plain == "FAIL":
        classes.append("fail")
    elif plain in ("not measured", "n/a", "-") or plain.startswith("n/a"):
        classes.append("na")
    if right or _NUMBER.fullmatch(plain):
        classes.append("num")
    return f' class="{" ".join(classes)}"' if classes else ""


def _table(lines: list[str]) -> str:
    header = _cells(lines[0])
    body = lines[1:]
    right = [False] * len(header)
    if body and re.fullmatch(r"\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", body[0]):
        right = [cell.endswith(":") and not cell.startswith(":") for cell in _cells(body[0])]
        body = body[1:]
    rows = ["<tr>" + "".join(f"<th>{_inline(cell)}</th>" for cell in header) + "</tr>"]
    for line in body:
        cells = _cells(line)
        rows.append("<tr>" + "".join(
            f"<td{_cell_class(cell, right[i] if i < len(right) else False)}>{_inline(cell)}</td>"
            for i, cell in enumerate(cells)) + "</tr>")
    # In a scrolling box: the measurement tables are wider than a narrow window.
    return '<div class="wide"><table>\n' + "\n".join(rows) + "\n</table></div>"


def _list(lines: list[str]) -> str:
    """Nested ``- `` items (two spaces per level), continuation lines joined to their item."""
    out: list[str] = []
    depth = -1
    for line in lines:
        match = re.match(r"(\s*)- (.*)", line)
        if not match:  # a continuation of the previous item
            out[-1] = out[-1].removesuffix("</li>") + " " + _inline(line.strip()) + "</li>"
            continue
        level = len(match.group(1)) // 2
        while depth < level:
            out.append("<ul>")
            depth += 1
        while depth > level:
            out.append("</ul>")
            depth -= 1
        out.append(f"<li>{_inline(match.group(2))}</li>")
    out += ["</ul>"] * (depth + 1)
    # A nested list belongs inside the item before it.
    text = "\n".join(out)
    return re.sub(r"</li>\n<ul>", "\n<ul>", text).replace("</ul>\n<li>", "</ul></li>\n<li>")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def markdown_to_html(text: str, *, heading_offset: int = 0) -> str:
    """Headings, paragraphs, ``- `` lists, tables, fenced code and inline code/bold/links.

    ``heading_offset`` demotes every heading (1: ``#`` becomes ``<h2>``).
    """
    lines = text.splitlines()
    blocks: list[str] = []
    ids: dict[str, int] = {}
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if line.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")),
                       len(lines))
            blocks.append("<pre><code>" + html.escape("\n".join(lines[i + 1:end])) +
                          "</code></pre>")
            i = end + 1
            continue
        heading = re.match(r"(#{1,6})\s+(.*)", line)
        if heading:
            level = min(6, len(heading.group(1)) + heading_offset)
            title = heading.group(2).strip()
            anchor = slug(title)
            ids[anchor] = ids.get(anchor, 0) + 1
            if ids[anchor] > 1:  # ids are unique: the diagnosis repeats its headings
                anchor += f"-{ids[anchor]}"
            blocks.append(f'<h{level} id="{anchor}">{_inline(title)}</h{level}>')
            i += 1
            continue
        j = i
        if line.lstrip().startswith("|"):
            while j < len(lines) and lines[j].lstrip().startswith("|"):
                j += 1
            blocks.append(_table(lines[i:j]))
        elif re.match(r"\s*- ", line):
            while j < len(lines) and lines[j].strip() and not lines[j].startswith("#") and \
                    not lines[j].lstrip().startswith("|"):
                j += 1
            blocks.append(_list(lines[i:j]))
        else:
            while j < len(lines) and lines[j].strip() and not re.match(
                    r"(#{1,6}\s|\s*- |\s*\||```)", lines[j]):
                j += 1
            blocks.append("<p>" + _inline(" ".join(part.strip() for part in lines[i:j])) +
                          "</p>")
        i = j
    return "\n".join(blocks)


# --------------------------------------------------------------------------------------------
# Plots and the page


def embed_png(path: str | Path) -> str:
    """A ``data:image/png;base64,...`` URI of the PNG at ``path``."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError(f"path must be a PNG file, not {str(path)!r}")
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def figure_html(path: str | Path, title: str, caption: str = "") -> str:
    text = f"<strong>{html.escape(title)}.</strong> {html.escape(caption)}".strip()
    return (f'<figure><img src="{embed_png(path)}" alt="{html.escape(title)}">'
            f"<figcaption>{text}</figcaption></figure>")


def _split_sections(body: str) -> list[str]:
    """``body`` cut before each ``<h2``."""
    starts = [m.start() for m in re.finditer(r"<h2[ >]", body)]
    if not starts:
        return [body]
    return [body[:starts[0]]] + [body[a:b] for a, b in zip(starts, starts[1:] + [len(body)],
                                                          strict=True)]


def _with_summary(targets: str) -> str:
    """The Targets section with a line counting its PASS, FAIL and unmeasured rows."""
    passed, failed = targets.count('class="pass'), targets.count('class="fail')
    missing = len(re.findall(r'<td class="na[^"]*">not measured</td>', targets))
    total = passed + failed + missing
    if not total:
        return targets
    text = f"{passed} of {total} targets met" + (f", {failed} missed" if failed else "") + \
        (f", {missing} not measured" if missing else "") + "."
    heading_end = targets.index("</h2>") + len("</h2>")
    return (targets[:heading_end] + f'\n<p class="summary"><strong>{text}</strong></p>' +
            targets[heading_end:])


def page(report_md: str, figures: Sequence[tuple[Path, str, str]], *,
         accuracy_md: str | None = None, accuracy_png: Path | None = None,
         title: str = "shiftmax hardware report") -> str:
    """The HTML text: report.md with the plots after its Targets section, then accuracy."""
    body = markdown_to_html(report_md)
    sections = _split_sections(body)
    plots = ""
    if figures:
        plots = ('<h2 id="plots">Plots</h2>\n<div class="plots">\n' +
                 "\n".join(figure_html(*figure) for figure in figures) + "\n</div>\n")
    at = next((n + 1 for n, section in enumerate(sections) if section.startswith(
        '<h2 id="targets"')), 1)
    if at > 1:
        sections[at - 1] = _with_summary(sections[at - 1])
    sections.insert(at, plots)
    if accuracy_md is not None or accuracy_png is not None:
        accuracy = '<h2 id="accuracy">Accuracy against float softmax</h2>\n'
        if accuracy_md:
            accuracy += markdown_to_html(accuracy_md, heading_offset=2) + "\n"
        if accuracy_png is not None:
            accuracy += figure_html(accuracy_png, "Accuracy",
                                    "Shiftmax output against float softmax (N = 10), and the "
                                    "error against N.") + "\n"
        sections.append(accuracy)
    content = "\n".join(sections)
    if not content.lstrip().startswith("<h1"):
        content = f"<h1>{html.escape(title)}</h1>\n" + content
    headings = re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', content)
    nav = "<nav>" + " ".join(f'<a href="#{anchor}">{text}</a>' for anchor, text in headings) + \
        "</nav>\n"
    first_h1_end = content.find("</h1>") + len("</h1>")
    content = content[:first_h1_end] + "\n" + nav + content[first_h1_end:]
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            f"{content}\n</body>\n</html>\n")


def _default_figures(out: Path) -> list[tuple[Path, str, str]]:
    """The PNGs of ``report_plots.PLOTS`` present in ``out`` (in page order), then any other
    PNG except accuracy.png."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        from report_plots import PLOTS
    finally:
        sys.path.pop(0)
    figures = [(out / name, title, caption) for name, title, caption, _ in PLOTS
               if (out / name).exists()]
    known = {path.name for path, _, _ in figures} | {"accuracy.png"}
    figures += [(path, path.stem.replace("_", " "), "") for path in sorted(out.glob("*.png"))
                if path.name not in known]
    return figures


def write_html(out: str | Path, plots: Sequence | None = None, *,
               name: str = "index.html") -> Path:
    """Write ``out/index.html`` from ``out/report.md``, the plots and the accuracy report.

    ``plots``: ``report_plots.Plot`` objects (or ``(path, title, caption)`` tuples); None
    takes the PNGs found in ``out``. accuracy.md and accuracy.png are included when present.

    Raises
    ------
    FileNotFoundError
        ``out/report.md`` does not exist (run ``make report`` first).
    """
    out = Path(out)
    report = out / "report.md"
    if not report.exists():
        raise FileNotFoundError(f"{report} does not exist: run make report first")
    if plots is None:
        figures = _default_figures(out)
    else:
        figures = [(Path(p.path), p.title, p.caption) if hasattr(p, "path") else
                   (Path(p[0]), p[1], p[2] if len(p) > 2 else "") for p in plots]
    accuracy_md = out / "accuracy.md"
    accuracy_png = out / "accuracy.png"
    text = page(report.read_text(), figures,
                accuracy_md=accuracy_md.read_text() if accuracy_md.exists() else None,
                accuracy_png=accuracy_png if accuracy_png.exists() else None)
    path = out / name
    path.write_text(text)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "report",
                        help="the report folder (default build/report)")
    args = parser.parse_args(argv)
    try:
        path = write_html(args.out)
    except FileNotFoundError as error:
        parser.exit(1, f"report_html: error: {error}\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
