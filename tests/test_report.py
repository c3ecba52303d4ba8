"""The offline HTML report: written by a finished campaign and by ``discovery report``, self-contained,
and rendered by headless Chromium without console errors (skipped when no Chromium is installed):
formulas at least at body size, no raw sympy names, one count per quantity in every section, and
an evolve campaign's objectives, history and best fractions."""

import json
import re
from html import unescape

import pytest
from PIL import Image

from discovery.campaign import run_campaign
from discovery.cli import main
from discovery.families import tail_note
from discovery.report.formulas import RAW_NAMES
from discovery.store import FormulaStore
from test_families import BOX

from browser import MEASURE_MATH, chromium, dump_dom, need_chromium
from campaigns import campaign_toml, write_campaign

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


def test_report_renders_in_headless_chromium(campaign):
    need_chromium()
    db, result = campaign
    dom = dump_dom(result.report)
    assert re.search(r'data-errors="0"', dom), "the page reported console errors"
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
    if chromium() is not None:
        assert 'data-errors="0"' in dump_dom(result.report)


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
    need_chromium()
    _, result = campaign
    page = tmp_path / "interact.html"
    page.write_text(result.report.read_text(encoding="utf-8").replace("</body>", _INTERACT), encoding="utf-8")
    dom = dump_dom(page)
    assert 'data-errors="0"' in dom
    tip = re.search(r'<div id="tip"[^>]*>(.*?)</div></div>', dom).group(1)
    assert "cluster" in tip and "PCFs" in tip and "centroid: delta" in tip and "a(n) = " in tip
    before, zoomed, reset = map(int, re.search(r'data-zoom="([\d/]+)"', dom).group(1).split("/"))
    assert before == reset > 0 and zoomed <= before


def _visible_text(dom: str) -> str:
    """The text a reader sees (scripts, styles and the configuration's JSON left out), tags removed."""
    dom = re.sub(r"<(script|style|pre)\b.*?</\1>", "", dom, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", dom))


def _counts(dom: str, what: str) -> set[str]:
    return set(re.findall(rf'data-count="{what}">([\d,]+)<', dom))


def test_formulas_at_body_size_no_raw_names_and_one_count_per_quantity(campaign, tmp_path):
    need_chromium()
    db, result = campaign
    page = tmp_path / "measure.html"
    page.write_text(result.report.read_text(encoding="utf-8").replace("</body>", MEASURE_MATH), encoding="utf-8")
    dom = dump_dom(page)
    body = float(re.search(r'data-body-px="([\d.]+)"', dom).group(1))
    smallest = float(re.search(r'data-math-min="([\d.]+)"', dom).group(1))
    where = unescape(re.search(r'data-math-where="([^"]*)"', dom).group(1))
    assert int(re.search(r'data-math-tokens="(\d+)"', dom).group(1)) > 100
    # Every MathML token outside an exponent, subscript or limit is at least as large as the body text.
    assert smallest >= body, f"a formula's token renders at {smallest}px < {body}px: {where}"
    text = _visible_text(dom)
    raw = [name for name in RAW_NAMES if name in text]
    assert not raw, raw
    # Each count has one value wherever it is shown; the scatter plots' titles count the same clusters.
    with FormulaStore(db) as store:
        status = store.status(result.campaign_id)
        families = store.families(campaign="family-box")
    assert _counts(dom, "clusters") == {f"{status['clusters']:,}"}
    assert _counts(dom, "identified") == {f"{sum(status['identified'].values()):,}"}
    assert _counts(dom, "families") == {str(len(families))}
    pngs = sorted((db.parent / "box_runs" / "family-box").glob("clusters_*.png"))
    assert pngs
    for png in pngs:
        title = Image.open(png).info["Title"]
        assert f", {status['clusters']:,} clusters" in title, title


def test_the_families_command_says_which_families_are_tails(campaign, capsys):
    db, _ = campaign
    with FormulaStore(db) as store:
        families = store.families(campaign="family-box")
    assert main(["families", "--db", str(db), "--campaign", "family-box", "--stored"]) == 0
    out = capsys.readouterr().out
    notes = [tail_note(f) for f in families]
    assert out.count("tails of one another") == sum(n is not None for n in notes)
    report = campaign[1].report.read_text(encoding="utf-8")
    assert report.count("tails of one another") == sum(n is not None for n in notes)


EVOLVE = {
    "campaign": {"name": "ev", "kind": "pcf", "seed": 5},
    "space": {"a": [[-4, 4], [-4, 4]], "b": [[-4, 4], [-4, 4], [-4, 4]]},
    "search": {"strategy": "evolve", "depth": 300, "metrics_depth": 400, "sample": 200, "population": 16,
               "generations": 5, "objectives": ["delta", "factorial_reduction", "target", "size"]},
    "identify": {"constants": ["pi", "e", "ln2"], "digits": 20, "confirm_digits": 40, "representatives": 1},
    "execution": {"workers": 1},
}


@pytest.fixture(scope="module")
def evolved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("evolve-report")
    cfg = write_campaign(folder / "ev.toml", **EVOLVE)
    db = folder / "ev.db"
    return db, run_campaign(cfg, db, progress=False)


def test_an_evolve_campaign_reports_its_objectives_history_and_best_fractions(evolved):
    db, result = evolved
    text = result.report.read_text(encoding="utf-8")
    names = EVOLVE["search"]["objectives"]
    assert '<section id="evolution"' in text and 'href="#evolution"' in text
    for name in names:
        assert f"<li><b>{name}</b>:" in text
        assert f'aria-label="best {name} per generation"' in text
        assert f'<table class="best-{name}">' in text
    # The history has one row per generation bred, none twice, in the checkpoint of the run folder.
    state = json.loads((result.report.parent / "evolution.json").read_text())
    generations = [row[0] for row in state["extra"]["history"]]
    assert generations == list(range(1, EVOLVE["search"]["generations"] + 1))
    assert f"({len(generations)} generations bred after the initial population)" in text
    # A fixed generation budget: "6 of 6" generations, not "6 / 0".
    assert "<td>generations evaluated</td><td>6 of 6</td>" in text
    with FormulaStore(db) as store:
        identified = store.query(campaign="ev", identified=True)
        detected = store.family_run(result.campaign_id)
    assert detected is not None and "family detection ran" in text and "run <code>discovery families" not in text
    if not identified:
        assert "No formula was identified, so none could be compared" in text


def test_an_evolve_report_in_headless_chromium(evolved):
    need_chromium()
    _, result = evolved
    dom = dump_dom(result.report)
    assert 'data-errors="0"' in dom
    assert dom.count('<svg class="history"') == len(EVOLVE["search"]["objectives"])
    assert not [name for name in RAW_NAMES if name in _visible_text(dom)]


def test_a_generation_recorded_again_replaces_its_row_and_the_best_stay_distinct():
    import numpy as np

    from discovery.checkpoints import EvolutionState, decode_plain, state_from_json, state_to_json
    from discovery.records import evolution_history, record_generation

    def coefficients(genome):
        return list(genome[:2]), list(genome[2:])

    population = [(1, 0, 1), (2, 1, 1), (1, 0, 1), (3, 0, 2)]
    state = EvolutionState(population, np.array([[0.5, 3.0], [0.25, 4.0], [0.5, 3.0], [0.75, 1.0]]),
                           rng_state=np.random.default_rng(0).bit_generator.state)
    for generation in (1, 2, 2):  # generation 2 computed again after a crash before its checkpoint
        state.generation = generation
        state.evaluations = 16 * generation
        record_generation(state, coefficients, keep=2)
    state = state_from_json(state_to_json(state), decode_plain)  # through the checkpoint's JSON
    history, best = evolution_history(state.extra)
    assert [r.generation for r in history] == [1, 2] and history[-1].best == (0.25, 1.0)
    assert best[0] == [(0.25, [2, 1], [1]), (0.5, [1, 0], [1])]  # (1, 0, 1) once, though met twice
    assert best[1] == [(1.0, [3, 0], [2]), (3.0, [1, 0], [1])]
