"""The report's HTML: one page, its CSS inline, nothing loaded from elsewhere.

Laid out for reading at a laptop's width (about 1280 px): one column at most 1100 px wide,
figures scaled to it, tables that wrap. Every piece of text from the run is HTML-escaped.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from digitlab.i18n import _, current_language
from digitlab.version import __version__

CSS = """
:root { --ink: #1d2430; --muted: #5b6675; --line: #dde2e8; --accent: #2563eb; --warn: #b45309;
        --bad: #b91c1c; --paper: #ffffff; --soft: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--soft); color: var(--ink);
       font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans",
             "PingFang SC", "Microsoft YaHei", sans-serif; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h1 small { color: var(--muted); font-weight: 400; font-size: 1rem; }
h2 { font-size: 1.3rem; margin: 0 0 10px; }
nav { margin: 14px 0 4px; display: flex; flex-wrap: wrap; gap: 6px 14px; font-size: .95rem; }
nav a { color: var(--accent); text-decoration: none; }
nav a:hover { text-decoration: underline; }
dl.summary { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr));
             gap: 8px 20px; margin: 16px 0 0; padding: 14px 18px; background: var(--paper);
             border: 1px solid var(--line); border-radius: 8px; }
dl.summary div { min-width: 0; }
dl.summary dt { color: var(--muted); font-size: .85rem; }
dl.summary dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
section { background: var(--paper); border: 1px solid var(--line); border-radius: 8px;
          padding: 20px 22px; margin: 18px 0; }
figure { margin: 0 0 12px; }
figure img { display: block; max-width: 100%; height: auto; margin: 0 auto; }
p.caption { color: var(--muted); margin: 6px 0 12px; }
p.note { background: #fff7ed; border-left: 4px solid var(--warn); padding: 8px 12px;
         margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 10px 0; font-size: .93rem; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line);
         vertical-align: top; overflow-wrap: anywhere; }
th { background: var(--soft); font-weight: 600; }
td:first-child { white-space: nowrap; }
td.num { font-variant-numeric: tabular-nums; }
.severity { display: inline-block; padding: 0 8px; border-radius: 10px; font-size: .85rem;
            background: var(--soft); border: 1px solid var(--line); }
.severity-error, .severity-critical { color: var(--bad); border-color: var(--bad); }
.severity-warning { color: var(--warn); border-color: var(--warn); }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 32px; }
@media (max-width: 700px) { header, main, footer { padding: 0 10px; }
                            section { padding: 14px 12px; } }
"""


def render(run_name: str, summary: list[tuple[str, str]], sections: list, notes: list[str]) -> str:
    """The whole page as a string. sections: report.build.Section objects, in order."""
    title = _("Training report: {run}").format(run=run_name)
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(current_language())}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{escape(_('Training report'))} <small>{escape(run_name)}</small></h1>",
        '<dl class="summary">',
    ]
    for label, value in summary:
        parts.append(f"<div><dt>{escape(label)}</dt><dd>{escape(value)}</dd></div>")
    parts.append("</dl>")
    parts.append("<nav>")
    for section in sections:
        parts.append(f'<a href="#{escape(section.key)}">{escape(section.title)}</a>')
    parts.append("</nav>")
    parts.extend(f'<p class="note">{escape(note)}</p>' for note in notes)
    parts.append("</header>")
    parts.append("<main>")
    for section in sections:
        parts.append(_section(section))
    parts.append("</main>")
    stamp = datetime.now().astimezone().isoformat(timespec="seconds")
    parts.append(
        "<footer>"
        + escape(
            _("Written by digitlab {version} on {time}.").format(version=__version__, time=stamp)
        )
        + "</footer>"
    )
    parts.append("</body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def _section(section) -> str:
    parts = [f'<section id="{escape(section.key)}">', f"<h2>{escape(section.title)}</h2>"]
    for i, figure in enumerate(section.figures):
        alt = section.captions[i] if i < len(section.captions) else section.title
        parts.append(
            f'<figure><img src="{escape(figure)}" alt="{escape(alt)}" loading="lazy"></figure>'
        )
    parts.extend(f'<p class="caption">{escape(c)}</p>' for c in section.captions)
    for header, rows in section.tables:
        parts.append(_table(header, rows, severity=section.key == "findings"))
    parts.extend(f'<p class="note">{escape(note)}</p>' for note in section.notes)
    parts.append("</section>")
    return "\n".join(parts)


def _table(header: list[str], rows: list[list[str]], severity: bool = False) -> str:
    parts = ["<table>", "<thead><tr>"]
    parts.extend(f"<th>{escape(h)}</th>" for h in header)
    parts.append("</tr></thead>")
    parts.append("<tbody>")
    for row in rows:
        cells = []
        for j, cell in enumerate(row):
            text = escape(cell)
            if severity and j == 0:
                kind = "".join(ch for ch in cell.lower() if ch.isalnum())
                text = f'<span class="severity severity-{kind}">{text}</span>'
            numeric = cell[:1].isdigit() or (cell[:1] == "-" and cell[1:2].isdigit())
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody>")
    parts.append("</table>")
    return "\n".join(parts)
