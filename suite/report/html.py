"""The report's Markdown as one self-contained HTML page (no CDN, no server): sections collapse to their
summary, tables sort and filter, the PNGs are embedded, and a link to a section opens it."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1600px;margin:1.5em auto;padding:0 1.5em;color:#222}
h1{margin-bottom:.2em}h2{display:inline;font-size:1.3em}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#f2f2f2;cursor:pointer;user-select:none;position:sticky;top:0}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
details{border-top:1px solid #ddd;padding:.6em 0}summary{cursor:pointer}
summary .gist{color:#555;margin-left:.8em}
.findings li{margin:.35em 0}.toc{columns:2}
figure{margin:1em 0}img{width:100%;max-width:1500px;cursor:zoom-in}
img.zoom{width:auto;max-width:none;cursor:zoom-out}
input.filter{margin:.4em 0;padding:3px 6px;width:24em}code{background:#f5f5f5;padding:0 3px}
"""

SCRIPT = """
function openTarget(){var id=decodeURIComponent(location.hash.slice(1));
 var el=id&&document.getElementById(id);
 for(;el;el=el.parentElement){if(el.tagName==='DETAILS')el.open=true;}}
window.addEventListener('hashchange',openTarget);
document.addEventListener('DOMContentLoaded',function(){
 openTarget();
 document.querySelectorAll('table.data').forEach(function(t){
  var body=t.tBodies[0];
  t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
   var asc=!th.classList.contains('asc');t.querySelectorAll('th').forEach(function(h){h.className='';});
   th.className=asc?'asc':'desc';
   var rows=Array.prototype.slice.call(body.rows);
   rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent;
    var p=parseFloat(x),q=parseFloat(y);
    var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);return asc?c:-c;});
   rows.forEach(function(r){body.appendChild(r);});});});
  var box=t.previousElementSibling;
  if(box&&box.classList.contains('filter'))box.addEventListener('input',function(){
   var words=box.value.toLowerCase().split(/\\s+/).filter(Boolean);
   Array.prototype.forEach.call(body.rows,function(r){var text=r.textContent.toLowerCase();
    r.style.display=words.every(function(w){return text.indexOf(w)>=0;})?'':'none';});});});
 document.querySelectorAll('img').forEach(function(img){img.addEventListener('click',function(){
  img.classList.toggle('zoom');});});
});
"""

FILTER_ROWS = 8  # tables longer than this get a filter box


def slug(title: str) -> str:
    """The anchor of a heading, as code hosts make it: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", title.strip().lower())
    return text.replace(" ", "-")


def inline(text: str) -> str:
    """Markdown's inline marks (bold, code, italics, links) as HTML, the rest escaped."""
    text = html.escape(text, quote=False)
    text = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"(?<![\w/])_(.+?)_(?![\w/])", r"<i>\1</i>", text)


def _table(lines: list[str]) -> str:
    rows = [[inline(c.strip()) for c in line.strip().strip("|").split("|")] for line in lines]
    head, *rest = [r for r, line in zip(rows, lines, strict=True) if not line.startswith("|---")]
    box = "<input class='filter' placeholder='filter rows: e.g. lstm train torch'>"
    box = box if len(rest) > FILTER_ROWS else ""
    return (
        f"{box}<table class='data'><thead><tr>"
        + "".join(f"<th>{c}</th>" for c in head)
        + "</tr></thead><tbody>"
        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rest)
        + "</tbody></table>"
    )


def to_html(markdown: str, folder: Path) -> str:
    """The page. A ``## `` heading followed by a ``> `` line opens a collapsed section whose summary is
    that line; other headings stay open. Images are read from ``folder`` and embedded."""
    body: list[str] = []
    lines = markdown.splitlines()
    in_section, in_list = False, False
    i = 0
    while i < len(lines):
        line = lines[i]
        if in_list and not line.startswith("- "):
            body.append("</ul>")
            in_list = False
        if line.startswith("|"):
            start = i
            while i < len(lines) and lines[i].startswith("|"):
                i += 1
            body.append(_table(lines[start:i]))
            continue
        image = re.fullmatch(r"!\[(.*)\]\((.*)\)", line)
        heading = re.match(r"(#+) (.*)", line)
        if image:
            data = base64.b64encode((folder / image.group(2)).read_bytes()).decode()
            body.append(
                f'<figure><img alt="{html.escape(image.group(1))}" src="data:image/png;base64,{data}">'
                f"<figcaption>{html.escape(image.group(1))}</figcaption></figure>"
            )
        elif heading:
            level, title = len(heading.group(1)), heading.group(2)
            gist = lines[i + 2] if i + 2 < len(lines) and lines[i + 2].startswith("> ") else None
            if level <= 2 and in_section:
                body.append("</details>")
                in_section = False
            if level == 2 and gist:
                body.append(
                    f"<details id='{slug(title)}'><summary><h2>{inline(title)}</h2>"
                    f"<span class='gist'>{inline(gist[2:])}</span></summary>"
                )
                in_section = True
                i += 3
                continue
            body.append(f"<h{level} id='{slug(title)}'>{inline(title)}</h{level}>")
        elif line.startswith("- "):
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{inline(line[2:])}</li>")
        elif line.startswith("> "):
            body.append(f"<p><i>{inline(line[2:])}</i></p>")
        elif line.strip():
            body.append(f"<p>{inline(line)}</p>")
        i += 1
    if in_list:
        body.append("</ul>")
    if in_section:
        body.append("</details>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>rnnbench report</title>"
        f"<style>{STYLE}</style><script>{SCRIPT}</script></head><body>{''.join(body)}</body></html>\n"
    )
