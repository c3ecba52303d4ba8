"""Headless Chromium for the report's tests: the page's DOM after its scripts ran, screenshots,
and a measuring script that writes computed styles into the DOM (``--dump-dom`` shows them).

Chromium runs with the flags a closed network needs (no sync, no component updates, no
background requests) and a fresh profile each time.  Tests that need it skip with a message
when none is installed (``apt-get install chromium``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--virtual-time-budget=5000")


def chromium() -> str | None:
    """The Chromium executable, or None."""
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def need_chromium() -> str:
    """The Chromium executable; the test is skipped with a message when there is none."""
    browser = chromium()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium) to render the report")
    return browser


def _run(args: list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([need_chromium(), *FLAGS, f"--user-data-dir={profile}", *args],  # noqa: S603
                              capture_output=True, text=True, timeout=timeout)


def dump_dom(page: Path) -> str:
    """The DOM of a page after its scripts ran."""
    done = _run(["--dump-dom", page.as_uri()])
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


def screenshot(page: Path, out: Path, width: int = 1280, height: int = 1600, at: str | None = None) -> Path:
    """A PNG of a page at a window size, starting at the element with id ``at``: a copy of the
    page hides what comes before it (neither a #fragment nor scrolling moves a headless
    screenshot); headings of the enclosing sections stay."""
    if at is not None:
        copy = out.with_suffix(".html")
        copy.write_text(page.read_text(encoding="utf-8").replace("</body>", _START_AT % at), encoding="utf-8")
        page = copy
    _run([f"--window-size={width},{height}", f"--screenshot={out}", page.as_uri()])
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return out


_START_AT = """<script>
for (var e = document.getElementById('%s'); e && e !== document.body; e = e.parentElement)
  for (var s = e.previousElementSibling; s; s = s.previousElementSibling)
    if (!/^H[12]$/.test(s.tagName)) s.style.display = 'none';
</script></body>"""

# Appended to a copy of a report: the body's font size and, for every MathML token outside a script
# position (exponents, subscripts, limits of sums are meant to be smaller), its computed size; the
# smallest is written into the root element's data-math-min (pixels), with the text of that token.
MEASURE_MATH = """<script>
(function(){
var body = parseFloat(getComputedStyle(document.body).fontSize), min = 1e9, where = '', n = 0;
var scripted = {msup: 1, msub: 1, msubsup: 1, munderover: 1, munder: 1, mover: 1};
document.querySelectorAll('math mi, math mn, math mo').forEach(function(t){
  for (var e = t; e.parentElement && e.tagName.toLowerCase() !== 'math'; e = e.parentElement)
    if (scripted[e.parentElement.tagName.toLowerCase()] && e !== e.parentElement.firstElementChild) return;
  var size = parseFloat(getComputedStyle(t).fontSize); n++;
  if (size < min) { min = size; where = t.textContent + ' in ' + t.closest('math').textContent; }
});
var root = document.documentElement;
root.setAttribute('data-body-px', body); root.setAttribute('data-math-min', min);
root.setAttribute('data-math-tokens', n); root.setAttribute('data-math-where', where);
})();
</script></body>"""
