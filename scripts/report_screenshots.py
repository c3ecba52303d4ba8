"""Screenshots of a report in headless Chromium, for docs/report/ (and for looking at it).

    python scripts/report_screenshots.py PCF_REPORT.html EVOLVE_REPORT.html OUT_DIR

writes ``top.png``, ``constant.png`` (the first constant's table), ``family.png`` (the first
family), ``clusters.png`` (the cluster map and scatter plots) and ``evolve.png`` (an evolve
campaign's search) into OUT_DIR.  Needs Chromium (``apt-get install chromium``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import screenshot  # noqa: E402  (the tests' Chromium helpers)


def main(pcf: Path, evolve: Path, out: Path) -> list[Path]:
    pcf, evolve, out = pcf.resolve(), evolve.resolve(), out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    text = pcf.read_text(encoding="utf-8")
    constant = re.search(r'<h3 id="(constant-[^"]+)"', text).group(1)
    family = re.search(r'<article class="family" id="(family-\d+)"', text)
    shots = [screenshot(pcf, out / "top.png", 1280, 1100),
             screenshot(pcf, out / "constant.png", 1280, 1100, at=constant),
             screenshot(pcf, out / "clusters.png", 1280, 1700, at="clusters"),
             screenshot(evolve, out / "evolve.png", 1280, 1900, at="evolution")]
    if family:
        shots.append(screenshot(pcf, out / "family.png", 1280, 1100, at=family.group(1)))
    for page in out.glob("*.html"):
        page.unlink()  # the copies the screenshots were taken of
    return shots


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    for path in main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])):
        print(path)
