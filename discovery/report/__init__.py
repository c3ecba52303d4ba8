"""The offline HTML report of a campaign: one self-contained ``index.html``.

It opens with no network: styles and the little script are inline, formulas are MathML (which
current browsers render with no script) in display style at the size of the text around them
(:mod:`discovery.report.formulas` simplifies and names them as a mathematician writes them),
figures are inline SVG or embedded PNG.  Its size does not grow with the number of stored PCFs:
it holds the identified formulas, the families and one centroid per cluster, never the metric rows.

Sections (each an element with that id): ``stages`` (counts and timings), for an evolve campaign
``evolution`` (its objectives, the best value of each per generation, the best fractions per
objective: :mod:`discovery.report.evolution`), ``constants`` (identified formulas per constant,
with digits verified and δ), ``delta-positive`` (identified formulas with δ > 0), ``new`` (the
formulas :mod:`discovery.novelty` labels new, with what was checked, and the counts per label),
``families`` (with members, closed forms in k, and whether members are tails of one another),
``clusters`` (interactive map of cluster centroids: hover for size, centroid, constants and a
representative formula; wheel to zoom, drag to pan, double-click to reset; the constants of the
most clusters coloured as in the static scatter plots below it) and, for a program campaign,
``pareto`` (error against operations on a log scale, with the classical baselines).  A count
shown in several places (clusters, identified formulas, families) carries ``data-count`` and is
read from one query.
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable

import sympy

from discovery.constants import lookup
from discovery.errors import InputError
from discovery.families import class_expr, class_where, closed_form_expr, family_polynomials, tail_note
from discovery.novelty import NOVELTY_LABELS
from discovery.plots import scatter_colours
from discovery.programs.baselines import baselines
from discovery.programs.targets import make_target
from discovery.report.evolution import evolution_section
from discovery.report.formulas import (MINUS, closed_form_mathml, closed_form_text, constant_symbol, mathml,
                                       pretty_names, vanishing_pochhammer)
from discovery.store import FormulaStore

_N = sympy.Symbol("n")


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


_mathml_text = closed_form_mathml
_mathml = mathml


@lru_cache(maxsize=8192)
def _poly_mathml_cached(coeffs: tuple) -> str:
    return mathml(sympy.factor(sympy.Poly(list(coeffs), _N).as_expr()), simplified=False)


def _poly_mathml(coeffs) -> str:
    return _poly_mathml_cached(tuple(int(c) for c in coeffs))


def _poly_text(coeffs) -> str:
    """A polynomial in n as plain text, cheaply (for thousands of cluster representatives)."""
    coeffs = list(coeffs)
    while len(coeffs) > 1 and coeffs[0] == 0:
        coeffs.pop(0)
    terms = []
    for i, c in enumerate(coeffs):
        e = len(coeffs) - 1 - i
        if c == 0:
            continue
        mono = "" if e == 0 else ("n" if e == 1 else "n" + str(e).translate(_SUPERSCRIPTS))
        mag = abs(c)
        body = f"{mag}{mono}" if (mag != 1 or not mono) else mono
        terms.append((MINUS if c < 0 else "+", body))
    if not terms:
        return "0"
    text = (MINUS if terms[0][0] == MINUS else "") + terms[0][1]
    return text + "".join(f" {s} {b}" for s, b in terms[1:])


_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _int(v: int) -> str:
    return str(v).replace("-", MINUS)


def _digits(d) -> str:
    if d is None:
        return "–"
    return "exact" if math.isinf(d) else f"{d:.0f}"


def _num(x, fmt=".4f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return format(x, fmt).replace("-", MINUS)


# --- data -----------------------------------------------------------------------------------------
def _campaign_row(store, name: str | None):
    rows = store.campaigns()
    if not rows:
        raise InputError(f"{store.path} holds no campaign to report on")
    if name is None:
        return rows[-1]
    row = store.campaign(name)
    if row is None:
        raise InputError(f"no campaign {name!r} in {store.path} (campaigns: {', '.join(r['name'] for r in rows)})")
    return row


def _timings(store, row) -> list[tuple[str, str]]:
    units = store.conn.execute("SELECT MIN(done), MAX(done) FROM work_units WHERE campaign_id=?",
                               (row["id"],)).fetchone()
    created, finished = row["created"], row["finished"]
    out = []
    if units[1] is not None:
        out.append(("search (first registration to last work unit)", f"{units[1] - created:,.1f} s"))
    if finished is not None and units[1] is not None:
        out.append(("closing stage (clustering, representatives)", f"{finished - units[1]:,.1f} s"))
    if finished is not None:
        out.append(("total until finished", f"{finished - created:,.1f} s"))
    run = store.family_run(row["id"])
    if run is not None:
        out.append(("families (detection, extension, closed forms)", f"{run['seconds']:,.1f} s"))
    return out


def _cluster_points(store, campaign_id: int) -> list[dict]:
    """One entry per cluster: label, plane, size, centroid, constants and a representative
    (an identified member when there is one)."""
    rows = store.conn.execute(
        "SELECT c.id, c.label, c.plane, c.size, c.centroid, c.constants, "
        "(SELECT MIN(cm.formula_id) FROM cluster_members cm JOIN identifications i ON i.formula_id=cm.formula_id "
        " WHERE cm.cluster_id=c.id) AS ident, "
        "(SELECT MIN(cm.formula_id) FROM cluster_members cm WHERE cm.cluster_id=c.id) AS first "
        "FROM clusters c WHERE c.campaign_id=? ORDER BY c.label", (campaign_id,)).fetchall()
    reps = {r["id"]: r["ident"] or r["first"] for r in rows}
    info = {}
    ids = [f for f in reps.values() if f is not None]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for f in store.conn.execute(
                f"SELECT f.id, f.genome, i.closed_form FROM formulas f LEFT JOIN identifications i "  # noqa: S608
                f"ON i.formula_id=f.id WHERE f.id IN ({','.join('?' * len(chunk))})", chunk):
            g = json.loads(f["genome"])
            info[f["id"]] = {"a": _poly_text(g["a"]), "b": _poly_text(g["b"]),
                             "limit": closed_form_text(f["closed_form"]) if f["closed_form"] else None}
    out = []
    for r in rows:
        centroid = {k: (v if v is not None and math.isfinite(v) else None)
                    for k, v in json.loads(r["centroid"]).items()}
        out.append({"label": r["label"], "plane": json.loads(r["plane"]), "size": r["size"], "centroid": centroid,
                    "constants": json.loads(r["constants"]), "rep": info.get(reps[r["id"]])})
    return out


# --- HTML pieces ----------------------------------------------------------------------------------
def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _formula_rows(records: list[dict]) -> list[list[str]]:
    rows = []
    for r in records:
        rows.append([
            f'<span class="formula" data-id="{r["id"]}">#{r["id"]}</span>',
            _poly_mathml(r["a"]), _poly_mathml(r["b"]), _mathml_text(r["closed_form"]),
            _digits(r["digits_verified"]), _num(r["delta"]),
            "–" if r["cluster"] is None else _esc(r["cluster"]),
            "–" if r.get("family") is None else f'<a href="#family-{r["family"]}">{r["family"]}</a>',
            _novelty_cell(r),
        ])
    return rows


_FORMULA_HEAD = ["id", "a(n)", "b(n)", "limit", "digits", "δ", "cluster", "family", "novelty"]


def _novelty_cell(r: dict) -> str:
    """The novelty label, its reason on hover (see :mod:`discovery.novelty`)."""
    label = r.get("novelty")
    if label is None:
        return "–" if not r["constant"] else "not labelled"
    shown = '<span class="new">new</span>' if label == "new" else _esc(label)
    return f'<span title="{_esc(pretty_names(r.get("novelty_reason") or ""))}">{shown}</span>'



def _stages_section(store, row, status: dict, config: dict) -> str:
    evolve = (config.get("search") or {}).get("strategy") == "evolve"
    done, total = status["units_done"], status["units_total"]
    unit = "generations evaluated" if evolve else "work units"
    if total:
        units = f"{done:,} of {total:,}"
    else:
        units = f"{done:,} (no fixed total: the search ran until its time budget was spent)"
    rows = [[unit, units], ["candidates evaluated", f"{status['candidates']:,}"]]
    if row["kind"] == "program":
        rows.append(["programs on the Pareto front", f"{status['formulas']:,}"])
    else:
        fams = store.conn.execute("SELECT COUNT(*) FROM families WHERE campaign_id=?", (row["id"],)).fetchone()[0]
        rows += [["converging", f"{status['converged']:,}"], ["stored formulas", f"{status['formulas']:,}"],
                 ["clusters", f'<span data-count="clusters">{status["clusters"]:,}</span>'],
                 ["identified", f'<span data-count="identified">{sum(status["identified"].values()):,}</span>'],
                 ["families", f'<span data-count="families">{fams:,}</span>']]
    rows += [[_esc(k), v] for k, v in _timings(store, row)]
    return '<section id="stages"><h2>Stages</h2>' + _table(["stage", "value"], rows, "narrow") + "</section>"


def _constant_heading(name: str) -> str:
    """A constant's name with how it is written and what it is (from the catalog)."""
    entry = lookup(name.split("@")[0]) if "*" not in name and "," not in name else None
    if entry is None:
        return _esc(name)
    return f"{_esc(name)} <small>— {_esc(entry.description)}</small>"


def _constants_section(records: list[dict]) -> str:
    by_constant: dict[str, list] = {}
    for r in records:
        by_constant.setdefault(r["constant"] or "rational or quadratic", []).append(r)
    parts = [f'<section id="constants" data-formula-count="{len(records)}"><h2>Identified formulas '
             f'(<span data-count="identified">{len(records)}</span>)</h2>']
    if not records:
        parts.append("<p>No formula was identified.</p>")
    ordered = sorted(by_constant.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    summary = ", ".join(f'<a href="#constant-{_esc(c)}">{_esc(constant_symbol(c))}</a> {len(rs)}' for c, rs in ordered)
    parts.append(f"<p>{summary}</p>")
    for constant, rs in ordered:
        parts.append(f'<h3 id="constant-{_esc(constant)}">{_constant_heading(constant)} ({len(rs)})</h3>')
        parts.append(_table(_FORMULA_HEAD, _formula_rows(rs)))
    return "".join(parts) + "</section>"


def _delta_section(store, campaign_id: int, records: list[dict]) -> str:
    positive = [r for r in records if r["delta"] is not None and r["delta"] > 0]
    total = store.conn.execute(
        "SELECT COUNT(*) FROM metrics m JOIN campaign_formulas cf ON cf.formula_id=m.formula_id "
        "WHERE cf.campaign_id=? AND m.delta>0", (campaign_id,)).fetchone()[0]
    body = (_table(_FORMULA_HEAD, _formula_rows(sorted(positive, key=lambda r: -r["delta"])))
            if positive else "<p>No identified formula has δ &gt; 0.</p>")
    return (f'<section id="delta-positive"><h2>Formulas with δ &gt; 0 ({len(positive)} identified; '
            f"{total:,} stored in all)</h2><p>δ &gt; 0 means the fraction converges faster than its "
            f"reduced denominators grow: an irrationality proof may follow from it.</p>{body}</section>")


def _new_section(records: list[dict]) -> str:
    new = [r for r in records if r.get("novelty") == "new"]
    if not records:
        return ('<section id="new"><h2>New formulas (0)</h2><p>No formula was identified, so none could be '
                "compared with the literature.</p></section>")
    body = (_table(_FORMULA_HEAD + ["what was checked"],
                   [row + [_esc(pretty_names(r["novelty_reason"] or ""))] for row, r in zip(_formula_rows(new), new)])
            if new else "<p>No identified formula is new.</p>")
    counts = ", ".join(f"{label} {sum(r.get('novelty') == label for r in records)}" for label in NOVELTY_LABELS)
    return (f'<section id="new"><h2>New formulas ({len(new)})</h2><p>Identified formulas by novelty: {counts}. '
            "New means: not the same formula, up to equivalence transforms, inflation and tails, as any of the "
            "literature database's published formulas or members of its published families; in no detected "
            "family with a known member; and, for deg a ≤ 1 and deg b ≤ 2, with no hypergeometric closed form "
            f"(Gauss's, Kummer's and related continued fractions) confirmed.</p>{body}</section>")


def _class_formula(fit: dict) -> str:
    """L(k) of one constant's members, with the k it holds for (Piecewise renders poorly)."""
    return f'<p class="lk">L(k) = {_mathml(class_expr(fit))}{class_where(fit)}</p>'


def _families_section(families: list[dict], detection: dict | None) -> str:
    parts = [f'<section id="families"><h2>Infinite families (<span data-count="families">{len(families)}</span>)'
             "</h2>"]
    if not families:
        parts.append("<p>No family found: family detection ran and found no line of at least 3 identified "
                     "formulas of one constant that extends beyond the box.</p>" if detection is not None else
                     "<p>No family detected yet (run <code>discovery families</code> to detect them).</p>")
    for f in families:
        a, b = family_polynomials(f["base"], f["direction"])
        new = sum(not m["in_box"] for m in f["members"])
        ks = [m["k"] for m in f["members"]]
        expr = closed_form_expr(f["fit"]) if f["closed_form_k"] else None
        if expr is None:
            closed = "<p>No closed form in k was found.</p>"
        else:
            state = ("verified exactly on every member not used to find it" if f["closed_form_verified"]
                     else "NOT verified")
            classes = [c for c in f["fit"]["classes"] if c]
            used = "; ".join(f"{_esc(c['constant'])}: fitted on k = {', '.join(map(_int, c['fit_k']))}, checked on "
                             f"{len(c['held_out_k'])} others" for c in classes)
            closed = "".join(_class_formula(c) for c in classes) + (
                f'<p class="note">Closed form in k {state} ({used}).</p>')
            if vanishing_pochhammer(expr):
                closed += ('<p class="note">A Pochhammer symbol (a)ᵢ with a = 0, −1, … vanishes once i &gt; −a: '
                           f"the form holds for the members' k (here {_int(min(ks))} to {_int(max(ks))}), where a "
                           "sum whose upper limit m − 1 is below its lower limit 0 runs backwards (Karr's convention, "
                           "Σ<sub>i=0</sub><sup>m−1</sup> = −Σ<sub>i=m</sub><sup>−1</sup>) and meets no zero "
                           "factor.</p>")
        rows = [[_int(m["k"]), "box" if m["in_box"] else '<span class="new">new</span>', _poly_mathml(m["a"]),
                 _poly_mathml(m["b"]), _mathml_text(m["closed_form"]), _esc(m["constant"]),
                 _digits(m["digits_verified"])] for m in f["members"]]
        tails = tail_note(f)
        parts.append(
            f'<article class="family" id="family-{f["id"]}"><h3>Family {f["id"]}: '
            f"{_esc(', '.join(map(constant_symbol, f['constants'])))}</h3><p>a(n) = {mathml(a, simplified=False)}, "
            f"b(n) = {mathml(b, simplified=False)}; "
            f"{len(ks)} members for k from {_int(min(ks))} to {_int(max(ks))}: {len(ks) - new} in the box, "
            f"{new} new.</p>"
            + (f'<p class="note">{_esc(tails)}</p>' if tails else "")
            + f"{closed}<details><summary>members</summary>"
            + _table(["k", "", "a(n)", "b(n)", "limit", "constant", "digits"], rows) + "</details></article>")
    return "".join(parts) + "</section>"


GREY = "#bdbdbd"


def cluster_colours(points: list[dict]) -> dict[str, str]:
    """Constant -> colour for the constants identified in the most clusters (the scatter plots'
    colours, :func:`discovery.plots.scatter_colours`); every other cluster is grey."""
    count: dict[str, int] = {}
    for p in points:
        if p["constants"]:
            count[p["constants"][0]] = count.get(p["constants"][0], 0) + 1
    return scatter_colours(count)


# The vertical axes of the cluster map: metric -> how it is written (the plots' labels).
_AXES = {"gamma_prime": "γ′ (growth of reduced q)", "eta_prime": "η′", "gamma": "γ (convergence rate)", "eta": "η",
         "eigen_log_ratio": "log|λ₊/λ₋|"}


def _clusters_section(points: list[dict], pngs: list[Path]) -> str:
    colours = cluster_colours(points)
    for p in points:
        p["colour"] = colours.get(p["constants"][0], GREY) if p["constants"] else GREY
    # Grey first, so a coloured circle is never hidden under a grey one.
    points = sorted(points, key=lambda p: p["colour"] != GREY)
    others = len({p["constants"][0] for p in points if p["constants"]} - set(colours))
    grey = "grey: no constant identified" + (f", or one of {others} further constants (hover to see which)"
                                             if others else "")
    data = json.dumps(points, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    images = "".join(
        f'<figure><img alt="{_esc(p.stem)}" src="data:image/png;base64,{base64.b64encode(p.read_bytes()).decode()}">'
        f"<figcaption>{_esc(p.name)}</figcaption></figure>" for p in pngs)
    options = "".join(f'<option value="{k}"{" selected" if k == "gamma_prime" else ""}>{_esc(label)}</option>'
                      for k, label in _AXES.items())
    legend = "".join(f'<span><i style="background:{c}"></i>{_esc(constant_symbol(k))}</span>'
                     for k, c in colours.items())
    legend += f'<span><i style="background:{GREY}"></i>{_esc(grey)}</span>'
    return (
        f'<section id="clusters"><h2>Cluster map (<span data-count="clusters">{len(points):,}</span> clusters)</h2>'
        f'<p>One circle per cluster at its centroid, area growing with its size; coloured by the first '
        f'constant identified in it for the {len(colours)} constants identified in the most clusters, {grey}. '
        'Hover for details, wheel to zoom, drag to pan, '
        f'double-click to reset. Vertical axis: <select id="yaxis">{options}</select></p>'
        f'<div class="mapbox"><div id="legend">{legend}</div><svg id="map" viewBox="0 0 800 520" role="img" '
        'aria-label="cluster centroids"></svg><div id="tip" hidden></div></div>'
        '<h3>Every PCF of the campaign, by cluster</h3>'
        f'<div class="static">{images or "<p>No static plots in the run folder.</p>"}</div>'
        f'<script type="application/json" id="cluster-data">{data}</script></section>'
    )


@lru_cache(maxsize=16)
def _baseline_front(name: str, interval: tuple, error: str, max_ops: int) -> list[dict]:
    """The most accurate classical baseline (by scanned maximum error) at each operation count
    (cached: a few seconds of Remez iterations per target)."""
    target = make_target(name, interval, {"auto": None, "relative": True, "absolute": False}.get(error))
    best: dict[int, tuple] = {}
    for bl in baselines(target, max_ops):
        if bl.max_error > 0 and (bl.ops not in best or bl.max_error < best[bl.ops][0]):
            best[bl.ops] = (bl.max_error, bl.label)
    return [{"ops": k, "err": v[0], "label": v[1]} for k, v in sorted(best.items())]


def _pareto_section(store, row) -> str:
    programs = [r for r in store.query(kind="program", campaign=row["name"]) if r["max_error"]]
    t = json.loads(row["config"]).get("space") or {}
    base = []
    if t.get("name") and t.get("interval"):
        base = _baseline_front(t["name"], tuple(t["interval"]), t.get("error", "auto"), int(t.get("max_ops", 10)))
    prog = [{"ops": r["ops"], "err": r["max_error"], "label": r["expression"], "bound": r["bound"],
             "infinities": r["infinities"]} for r in programs]
    svg = _pareto_svg(prog, base)
    rows = [[str(p["ops"]), f"{p['err']:.3g}", _bound_cell(p["bound"]),
             f"<code>{_esc(p['label'])}</code>" + (" (finite only through IEEE infinities)" if p["infinities"] else "")]
            for p in sorted(prog, key=lambda p: p["ops"])]
    return (f'<section id="pareto"><h2>Pareto front ({len(prog)} programs)</h2>{svg}'
            '<p class="note">Max error (scanned): the largest error found by a dense high-precision scan refined '
            'at its peaks, plotted above. Proven bound: a rigorous upper bound on the error over the whole '
            'interval, by Taylor models in ball arithmetic.</p>'
            + _table(["operations", "max error (scanned)", "proven bound", "program"], rows) + "</section>")


def _bound_cell(bound) -> str:
    if bound is None:
        return "-"
    return f"{bound:.3g}" if math.isfinite(bound) else "none proved"


def _pareto_svg(prog: list[dict], base: list[dict]) -> str:
    pts = prog + base
    if not pts:
        return "<p>No programs stored.</p>"
    w, h, m = 700, 380, 60
    xs = [p["ops"] for p in pts]
    ls = [math.log10(p["err"]) for p in pts]
    x0, x1 = min(xs) - 0.5, max(xs) + 0.5
    y0, y1 = math.floor(min(ls)), math.ceil(max(ls)) + (1 if math.floor(min(ls)) == math.ceil(max(ls)) else 0)

    def X(v):
        return m + (v - x0) / (x1 - x0) * (w - 2 * m)

    def Y(v):
        return h - m + (v - y0) / (y1 - y0) * -(h - 2 * m)

    out = [f'<svg class="pareto" viewBox="0 0 {w} {h}" role="img" aria-label="Pareto front">']
    for e in range(y0, y1 + 1):
        out.append(f'<line x1="{m}" x2="{w - m}" y1="{Y(e):.1f}" y2="{Y(e):.1f}" class="grid"/>'
                   f'<text x="{m - 6}" y="{Y(e) + 4:.1f}" text-anchor="end">1e{e}</text>')
    for o in sorted(set(xs)):
        out.append(f'<text x="{X(o):.1f}" y="{h - m + 18}" text-anchor="middle">{o}</text>')
    out.append(f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle">operations</text>'
               f'<text x="14" y="{h / 2}" transform="rotate(-90 14 {h / 2})" text-anchor="middle">'
               'max error (scanned)</text>')
    for series, cls in ((base, "baseline"), (prog, "evolved")):
        line = " ".join(f"{X(p['ops']):.1f},{Y(math.log10(p['err'])):.1f}"
                        for p in sorted(series, key=lambda p: p["ops"]))
        if line:
            out.append(f'<polyline class="{cls}" points="{line}"/>')
        for p in series:
            out.append(f'<circle class="{cls}" cx="{X(p["ops"]):.1f}" cy="{Y(math.log10(p["err"])):.1f}" '
                       f'r="{7 if cls == "baseline" else 4}">'
                       f"<title>{_esc(cls)}: {p['ops']} ops, {p['err']:.3g} — {_esc(p['label'])}</title></circle>")
    out.append(f'<text x="{w - m}" y="{m - 20}" text-anchor="end"><tspan class="evolved-key">● evolved</tspan> '
               '<tspan class="baseline-key">○ best classical baseline</tspan></text></svg>')
    return "".join(out)


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
h1{margin-bottom:.2em} h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0 1em} td,th{border:1px solid #ddd;padding:4px 10px;vertical-align:middle}
math{font-size:1.15em;font-family:'DejaVu Math TeX Gyre','STIX Two Math','Latin Modern Math',math}
h3 small{font-weight:normal;color:#444} p.lk{font-size:1.1em}
th{background:#f3f3f3;text-align:left} table.narrow td:first-child{min-width:22em}
.new{color:#fff;background:#2a7;padding:0 5px;border-radius:3px} .note{color:#555;font-size:.9em}
nav a{margin-right:1em} .mapbox{position:relative;max-width:1000px}
#map{width:100%;border:1px solid #ccc;background:#fff;cursor:grab;touch-action:none}
#map circle{stroke:#222;stroke-width:.6;fill-opacity:.8} #map .axis{stroke:#888} #map text{font-size:13px;fill:#333}
#tip{position:absolute;background:#fffff0;border:1px solid #999;padding:6px 8px;font-size:.85em;pointer-events:none;
max-width:26em;box-shadow:2px 2px 6px #0003} .static img{width:100%;border:1px solid #eee}
svg.pareto{max-width:700px;width:100%} svg.pareto .grid{stroke:#eee} svg.pareto text{font-size:13px}
.histories{display:flex;flex-wrap:wrap;gap:1em} svg.history{width:460px;max-width:100%;border:1px solid #eee}
svg.history text{font-size:13px;fill:#333} svg.history .title{font-weight:bold} svg.history .grid{stroke:#eee}
polyline.best{fill:none;stroke:#0072B2;stroke-width:2} circle.best{fill:#0072B2}
polyline.evolved{fill:none;stroke:#c33} polyline.baseline{fill:none;stroke:#36c;stroke-dasharray:4 3}
circle.evolved,.evolved-key{fill:#c33} circle.baseline{fill:none;stroke:#36c;stroke-width:2} .baseline-key{fill:#36c}
details{margin-bottom:1em} #legend span{margin-right:1.2em;white-space:nowrap}
#legend i{display:inline-block;width:.9em;
height:.9em;border-radius:50%;margin-right:.3em;border:1px solid #333;vertical-align:-.1em}
"""

# Installed first, so an error in the main script is counted too (the report test reads it back).
_ERRORS_JS = """window.__errors=[];function __count(m){window.__errors.push(String(m));
document.documentElement.setAttribute('data-errors',window.__errors.length);}
window.addEventListener('error',function(e){__count(e.message);});
var __err=console.error;console.error=function(){__count([].join.call(arguments,' '));__err.apply(console,arguments);};
document.documentElement.setAttribute('data-errors','0');"""

_MAP_JS = r"""
(function(){
var node=document.getElementById('cluster-data'); if(!node) return;
var pts=JSON.parse(node.textContent), svg=document.getElementById('map'), tip=document.getElementById('tip');
var W=800,H=520,M=48, NS='http://www.w3.org/2000/svg', yk='gamma_prime', view=null;
function colour(p){ return p.colour; }
function extent(){ var xs=[],ys=[]; pts.forEach(function(p){ var x=p.centroid.delta,y=p.centroid[yk];
  if(x!==null&&y!==null){xs.push(x);ys.push(y);} });
  if(!xs.length) return [0,1,0,1];
  var x0=Math.min.apply(null,xs),x1=Math.max.apply(null,xs),y0=Math.min.apply(null,ys),y1=Math.max.apply(null,ys);
  var dx=(x1-x0)||1, dy=(y1-y0)||1; return [x0-dx*.05,x1+dx*.05,y0-dy*.05,y1+dy*.05]; }
function el(name,attrs,text){ var e=document.createElementNS(NS,name); for(var k in attrs) e.setAttribute(k,attrs[k]);
  if(text!==undefined) e.textContent=text; svg.appendChild(e); return e; }
function ticks(a,b){ var span=b-a, step=Math.pow(10,Math.floor(Math.log10(span/5))), out=[];
  if(span/step>10) step*=2; if(span/step>10) step*=2.5;
  for(var t=Math.ceil(a/step)*step;t<=b;t+=step) out.push(+t.toPrecision(12)); return out; }
function fmt(v){ if(v===null) return '–';
  var t=(Math.abs(v)>=1e4||(Math.abs(v)<1e-3&&v!==0))?v.toExponential(3):(+v.toFixed(4)).toString();
  return t.replace(/-/g,'\u2212'); }
function draw(){
  while(svg.firstChild) svg.removeChild(svg.firstChild);
  var v=view, sx=function(x){return M+(x-v[0])/(v[1]-v[0])*(W-2*M);},
      sy=function(y){return H-M-(y-v[2])/(v[3]-v[2])*(H-2*M);};
  el('line',{x1:M,x2:W-M,y1:H-M,y2:H-M,'class':'axis'}); el('line',{x1:M,x2:M,y1:M,y2:H-M,'class':'axis'});
  ticks(v[0],v[1]).forEach(function(t){ el('text',{x:sx(t),y:H-M+14,'text-anchor':'middle'},fmt(t)); });
  ticks(v[2],v[3]).forEach(function(t){ el('text',{x:M-4,y:sy(t)+4,'text-anchor':'end'},fmt(t)); });
  el('text',{x:W/2,y:H-8,'text-anchor':'middle'},'FR δ');
  el('text',{x:12,y:H/2,'text-anchor':'middle',transform:'rotate(-90 12 '+H/2+')'},
     document.querySelector('#yaxis option[value="'+yk+'"]').textContent);
  pts.forEach(function(p,i){ var x=p.centroid.delta,y=p.centroid[yk]; if(x===null||y===null) return;
    var cx=sx(x),cy=sy(y); if(cx<M||cx>W-M||cy<M||cy>H-M) return;
    var c=el('circle',{cx:cx.toFixed(1),cy:cy.toFixed(1),r:(2+2.2*Math.log10(1+p.size)).toFixed(1),
                       fill:colour(p),'data-i':i});
    c.addEventListener('mouseenter',show); c.addEventListener('mouseleave',function(){tip.hidden=true;}); });
}
function show(ev){ var p=pts[+ev.target.getAttribute('data-i')], c=p.centroid, r=p.rep;
  var lines=['<b>cluster '+p.label+'</b> ('+p.plane.join(', ')+'): '+p.size.toLocaleString()+' PCFs',
    'centroid: '+Object.keys(c).map(function(k){return k+' '+fmt(c[k]);}).join(', '),
    'constants: '+(p.constants.length?p.constants.join(', '):'none identified')];
  if(r) lines.push('e.g. a(n) = '+r.a+', b(n) = '+r.b+(r.limit?' → '+r.limit:''));
  tip.innerHTML=''; lines.forEach(function(t,i){ var d=document.createElement('div');
    if(i===0){ d.innerHTML=t; } else { d.textContent=t; } tip.appendChild(d); });
  var box=tip.parentNode.getBoundingClientRect();
  tip.style.left=(ev.clientX-box.left+12)+'px'; tip.style.top=(ev.clientY-box.top+12)+'px';
  tip.hidden=false; }
function reset(){ view=extent(); draw(); }
function toData(ev){ var b=svg.getBoundingClientRect();
  var px=(ev.clientX-b.left)/b.width*W, py=(ev.clientY-b.top)/b.height*H;
  return [view[0]+(px-M)/(W-2*M)*(view[1]-view[0]), view[2]+(H-M-py)/(H-2*M)*(view[3]-view[2])]; }
svg.addEventListener('wheel',function(ev){ ev.preventDefault(); var f=ev.deltaY<0?0.8:1.25, d=toData(ev);
  view=[d[0]-(d[0]-view[0])*f,d[0]+(view[1]-d[0])*f,d[1]-(d[1]-view[2])*f,d[1]+(view[3]-d[1])*f]; draw();
},{passive:false});
var drag=null;
svg.addEventListener('mousedown',function(ev){ drag=toData(ev); });
window.addEventListener('mouseup',function(){ drag=null; });
svg.addEventListener('mousemove',function(ev){ if(!drag) return; var d=toData(ev), dx=drag[0]-d[0], dy=drag[1]-d[1];
  view=[view[0]+dx,view[1]+dx,view[2]+dy,view[3]+dy]; draw(); });
svg.addEventListener('dblclick',reset);
document.getElementById('yaxis').addEventListener('change',function(ev){ yk=ev.target.value; reset(); });
reset();
document.documentElement.setAttribute('data-map-circles',svg.querySelectorAll('circle').length);
})();
"""


def render_report(store, db: Path, campaign: str | None = None,
                  folder: Callable[[str], Path | None] | None = None) -> str:
    """The report of a campaign (default: the latest) as one HTML document.

    ``folder`` gives a campaign's run folder (None when it has none), where the static plots
    (``clusters_*.png``) and an evolve search's checkpoint are read from; none by default.
    """
    row = _campaign_row(store, campaign)
    name, kind = row["name"], row["kind"]
    config = json.loads(row["config"])
    status = store.status(row["id"])
    run_folder = folder(name) if folder else None
    sections = [_stages_section(store, row, status, config)]
    ids = ["stages"]
    if kind == "program":
        sections.append(_pareto_section(store, row))
        ids.append("pareto")
    else:
        if (config.get("search") or {}).get("strategy") == "evolve":
            sections.append(evolution_section(store, row, config, run_folder, _poly_mathml, _mathml_text))
            ids.append("evolution")
        records = store.query(kind="pcf", campaign=name, identified=True)
        pngs = sorted(run_folder.glob("clusters_*.png")) if run_folder is not None and run_folder.is_dir() else []
        sections += [_constants_section(records), _delta_section(store, row["id"], records), _new_section(records),
                     _families_section(store.families(campaign=name), store.family_run(row["id"])),
                     _clusters_section(_cluster_points(store, row["id"]), pngs)]
        ids += ["constants", "delta-positive", "new", "families", "clusters"]
    nav = "".join(f'<a href="#{s}">{s}</a>' for s in ids)
    description = (config.get("campaign") or {}).get("description") or ""
    state = "finished" if row["finished"] else "not finished"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>discovery report: {_esc(name)}</title><style>{_STYLE}</style><script>{_ERRORS_JS}</script></head>"
        f"<body><h1>Campaign {_esc(name)}</h1><p>{_esc(kind)} campaign, {state}. {_esc(description)}</p>"
        f"<p class=\"note\">Database {_esc(db)}; report written {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f".</p><details><summary>configuration</summary><pre>{_esc(json.dumps(config, indent=1, sort_keys=True))}"
        f"</pre></details><nav>{nav}</nav>{''.join(sections)}<script>{_MAP_JS}</script></body></html>"
    )


def write_report(db: str | Path, out: str | Path, campaign: str | None = None,
                 folder: Callable[[str], Path | None] | None = None) -> Path:
    """Write ``out/index.html``, the report of a campaign of the database at ``db``.

    Parameters
    ----------
    db : path
        The formula database.
    out : path
        Folder to write into (created if missing).
    campaign : str, optional
        Campaign name; default the latest campaign.
    folder : callable, optional
        Campaign name -> its run folder, with the static plots and an evolve search's history
        (:func:`discovery.campaign.closing.campaign_folder` finds it;
        :func:`discovery.campaign.closing.write_report` passes it).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        For an unknown campaign or a database with none.
    """
    db, out = Path(db), Path(out)
    with FormulaStore(db) as store:
        text = render_report(store, db, campaign, folder)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    path.write_text(text, encoding="utf-8")
    return path
