"""The offline HTML report: written by a finished campaign and by ``discovery report``, self-contained,
and rendered by headless Chromium without console errors (skipped when no Chromium is installed)."""

import re
import shutil
import subprocess

import pytest

from discovery.campaign import run_campaign
from discovery.cli import main
from discovery.store import FormulaStore
from test_families import BOX

from campaigns import campaign_toml

SECTIONS = ("stages", "constants", "delta-positive", "new", "families", "clusters")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    cfg = folder / "box.toml"
    cfg.write_text(BOX)
    db = folder / "box.db"
    result = run_campaign(cfg, db, progress=False)
    return db, result


def test_a_finished_campaign_writes_its_report_into_its_run_folder(campaign):
    db, result = campaign
    assert result.report == db.parent / "box_runs" / "family-box" / "index.html"
    text = result.report.read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f'<section id="{section}"' in text
    assert "<math" in text and "data:image/png;base64," in text  # MathML, and the static plots embedded
    # Offline: nothing is loaded from anywhere (the SVG namespace in the script is a name, not a fetch).
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text)
    assert "<link" not in text and "@import" not in text
    assert 'id="family-' in text and "for odd k" in text and "for even k" in text


def test_report_command_writes_index_html(campaign, tmp_path, capsys):
    db, _ = campaign
    out = tmp_path / "out"
    assert main(["report", "--db", str(db), "--campaign", "family-box", "--out", str(out)]) == 0
    assert (out / "index.html").exists() and str(out / "index.html") in capsys.readouterr().out
    assert main(["report", "--db", str(db), "--campaign", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("discovery: error:") and "'nope'" in err


def _chromium():
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def test_report_renders_in_headless_chromium(campaign):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium) to render the report")
    db, result = campaign
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
         result.report.as_uri()], capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert done.returncode == 0 and "<html" in dom, done.stderr[-2000:]
    assert re.search(r'data-errors="0"', dom), "the page reported console errors"
    assert "Uncaught" not in done.stderr
    for section in SECTIONS:
        assert f'id="{section}"' in dom
    with FormulaStore(db) as store:
        identified = store.query(campaign="family-box", identified=True)
        clusters = store.status(result.campaign_id)["clusters"]
    count = int(re.search(r'data-formula-count="(\d+)"', dom).group(1))
    constants_section = dom[dom.index('id="constants"'):dom.index('id="delta-positive"')]
    assert count == len(identified) == constants_section.count('class="formula"') > 0
    # The script drew the cluster map: one circle per cluster.
    assert int(re.search(r'data-map-circles="(\d+)"', dom).group(1)) == clusters > 0


PROGRAM = campaign_toml(
    campaign={"name": "exp-front", "kind": "program", "seed": 1},
    target={"name": "exp", "interval": [0, 0.5], "max_ops": 4},
    search={"generations": 2, "population": 16},
    execution={"workers": 1},
)


def test_a_program_campaign_reports_its_pareto_front_against_the_baselines(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text(PROGRAM)
    result = run_campaign(cfg, tmp_path / "p.db", progress=False)
    text = result.report.read_text(encoding="utf-8")
    assert '<section id="pareto"' in text and '<section id="clusters"' not in text
    assert text.count('<circle class="evolved"') == result.formulas
    assert '<circle class="baseline"' in text and ">1e-" in text  # log-scale axis labels
    assert "<th>max error (scanned)</th><th>proven bound</th>" in text
    browser = _chromium()
    if browser is not None:
        done = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                               result.report.as_uri()], capture_output=True, text=True, timeout=120)
        assert 'data-errors="0"' in done.stdout


# Appended to a copy of the report: hover the first circle, zoom in twice, double-click to reset.
_INTERACT = """<script>
var svg = document.getElementById("map"), r = svg.getBoundingClientRect(), circle = svg.querySelector("circle");
circle.dispatchEvent(new MouseEvent("mouseenter", {clientX: r.left + 50, clientY: r.top + 50}));
var before = svg.querySelectorAll("circle").length;
for (var i = 0; i < 3; i++) svg.dispatchEvent(new WheelEvent("wheel",
    {deltaY: -100, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2, cancelable: true}));
var zoomed = svg.querySelectorAll("circle").length;
svg.dispatchEvent(new MouseEvent("dblclick", {}));
document.documentElement.setAttribute("data-zoom", [before, zoomed, svg.querySelectorAll("circle").length].join("/"));
</script></body>"""


def test_cluster_map_shows_a_cluster_on_hover_and_zooms(campaign, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium) to render the report")
    _, result = campaign
    page = tmp_path / "interact.html"
    page.write_text(result.report.read_text(encoding="utf-8").replace("</body>", _INTERACT), encoding="utf-8")
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
                          "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert 'data-errors="0"' in dom
    tip = re.search(r'<div id="tip"[^>]*>(.*?)</div></div>', dom).group(1)
    assert "cluster" in tip and "PCFs" in tip and "centroid: delta" in tip and "a(n) = " in tip
    before, zoomed, reset = map(int, re.search(r'data-zoom="([\d/]+)"', dom).group(1).split("/"))
    assert before == reset > 0 and zoomed <= before
