"""The HTML report in a real browser: headless Chromium renders a report of two machines and a probe
script checks the findings, the navigation, every image, sorting and filtering. Skipped where no Chromium
is installed (the README's test command installs one where it can)."""

import html
import json
import re
import shutil
import subprocess

import pytest

from suite.records import write_records
from suite.report.command import main
from tests.suite.report.test_build import ENV, accuracy_records, speed_records, write

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")

PROBE = """<script>
window.addEventListener('load', function () {
  var out = {};
  out.findings = 0; out.finding_links = 0;  // the rows of the tables between Findings and Contents
  for (var el = document.getElementById('findings').nextElementSibling; el && el.id !== 'contents';
       el = el.nextElementSibling) {
    out.findings += el.querySelectorAll('tbody tr').length;
    out.finding_links += el.querySelectorAll('tbody a').length;
  }
  var links = Array.prototype.slice.call(document.querySelectorAll('a[href^="#"]'));
  out.anchors = links.length;
  out.broken = links.map(function (a) { return a.getAttribute('href').slice(1); })
    .filter(function (id) { return !document.getElementById(id); });
  var images = Array.prototype.slice.call(document.images);
  out.images = images.length;
  out.unrendered = images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
    .map(function (i) { return i.alt; });
  out.collapsed = document.querySelectorAll('details:not([open])').length;
  history.replaceState(null, '', '#speed');
  openTarget();
  out.opened = document.getElementById('speed').open;
  var th = Array.prototype.slice.call(document.querySelectorAll('#speed th'))
    .filter(function (h) { return h.textContent === 'median_ms'; })[0];
  th.click();
  var table = th.closest('table');
  var col = Array.prototype.indexOf.call(th.parentElement.children, th);
  out.sorted = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
    return parseFloat(r.cells[col].textContent); });
  var box = document.querySelector('#speed input.filter');
  box.value = 'lstm train';
  box.dispatchEvent(new Event('input'));
  var visible = Array.prototype.filter.call(box.nextElementSibling.tBodies[0].rows, function (r) {
    return r.style.display !== 'none'; });
  out.filtered = visible.map(function (r) { return r.cells[1].textContent + ' ' + r.cells[2].textContent; });
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
});
</script>"""


@pytest.fixture(scope="module")
def chromium():
    found = next((shutil.which(name) for name in BROWSERS if shutil.which(name)), None)
    if found is None:
        pytest.skip(f"no headless Chromium here (looked for {', '.join(BROWSERS)})")
    return found


def test_the_report_works_in_chromium(tmp_path, chromium):
    gpu = {**ENV, "cores": 16, "gpus": ["Test GPU"]}
    write(tmp_path, "speed.json", speed_records())
    write(tmp_path, "accuracy.json", accuracy_records())
    records = [{**r, "device": "gpu", "median_s": r["median_s"] / 10} for r in speed_records()]
    write_records(
        tmp_path / "speed-gpu.json",
        [{"implementation": r["framework"], **r, "environment": gpu} for r in records],
    )
    assert main(["--results", str(tmp_path)]) == 0
    page = (tmp_path / "report.html").read_text().replace("</body>", PROBE + "</body>")
    probed = tmp_path / "probed.html"
    probed.write_text(page)
    dom = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000"]
        + ["--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    match = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert match, f"the probe did not run: {dom[-500:]}"
    out = json.loads(html.unescape(match.group(1)))
    assert out["findings"] >= 5 and out["finding_links"] >= out["findings"]  # each links to its detail
    assert out["anchors"] >= 10 and out["broken"] == []  # contents and findings reach their sections
    assert out["images"] >= 4 and out["unrendered"] == []
    assert out["collapsed"] >= 5  # the sections start folded to their summary
    assert out["opened"]  # a link to a section opens it
    assert out["sorted"] == sorted(out["sorted"]) and len(out["sorted"]) == 12
    assert out["filtered"] == ["lstm train"] * 2  # numpy's and torch's
    side_by_side = (tmp_path / "report.md").read_text()
    assert "Test CPU, 2 cores: ms | Test CPU, 2 cores: % of peak | Test GPU (GPU): ms" in side_by_side
