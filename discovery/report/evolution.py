"""The report's section on an evolve campaign's search: its objectives, the best PCFs it met per
objective, and the best value of each objective per generation (an inline SVG plot).

The history and the best PCFs come from the search's checkpoint (``evolution.json`` in the run
folder), where :func:`discovery.records.record_generation` keeps them generation by generation.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from discovery.checkpoints import decode_plain, load_checkpoint
from discovery.errors import CheckpointError
from discovery.pcf.formula import PCF
from discovery.records import GenerationRecord, evolution_history
from discovery.store import pcf_key

# name -> (what it measures, sign turning the minimised value back into the quantity, "max"/"min").
OBJECTIVES = {
    "delta": ("FR δ, the irrationality-measure estimate (greater is better)", -1, "max"),
    "factorial_reduction": ("share of qₙ's digits that gcd(pₙ, qₙ) removes (greater is better)", -1, "max"),
    "convergence": ("digits gained per term (greater is better)", -1, "max"),
    "target": ("log₁₀ of the distance from the limit to the nearest Möbius transform of the campaign's "
               "constants (smaller is better)", 1, "min"),
    "novelty": ("distance in (δ, γ′, η′) to the clusters of earlier campaigns (greater is better)", -1, "max"),
    "size": ("sum of the coefficients' absolute values (smaller is better)", 1, "min"),
}
# The search's score of a fraction that does not converge (discovery.campaign.evolve.PENALTY, or more).
_PENALTY = 1e5


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def load_history(folder: Path | None) -> tuple[list[GenerationRecord], list]:
    """(history, best PCFs per objective) of the search whose run folder this is; empty when the
    folder, its checkpoint or the recorded history is missing."""
    if folder is None or not (folder / "evolution.json").exists():
        return [], []
    try:
        state = load_checkpoint(folder / "evolution.json", decode_plain)
    except (CheckpointError, OSError, ValueError):
        return [], []
    return evolution_history(state.extra)


def _value(name: str, v: float) -> float | None:
    """The objective as a person reads it (None for a non-converging fraction's penalty)."""
    if not math.isfinite(v) or abs(v) >= _PENALTY:
        return None
    return OBJECTIVES.get(name, ("", 1, "min"))[1] * v


def _fmt(v: float | None) -> str:
    return "–" if v is None else (f"{v:.4g}".replace("-", "\u2212"))


def _best_so_far(history: list[GenerationRecord], j: int, name: str) -> list[tuple[int, float]]:
    out, best = [], None
    for row in history:
        v = _value(name, row.best[j]) if j < len(row.best) else None
        if v is not None:
            best = v if best is None else (max(best, v) if OBJECTIVES.get(name, ("", 1, "min"))[2] == "max"
                                           else min(best, v))
        if best is not None:
            out.append((row.generation, best))
    return out


def history_svg(name: str, points: list[tuple[int, float]]) -> str:
    """The best value of one objective per generation as an SVG step plot."""
    w, h, ml, mr, mt, mb = 460, 230, 64, 16, 30, 44
    if not points:
        return f'<p class="note">{_esc(name)}: no converging fraction recorded.</p>'
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys)
    if y1 - y0 < 1e-12:
        y0, y1 = y0 - 0.5 * (abs(y0) or 1) * 0.1, y1 + 0.5 * (abs(y1) or 1) * 0.1
    pad = (y1 - y0) * 0.08
    y0, y1 = y0 - pad, y1 + pad

    def X(v):
        return ml + (v - x0) / (x1 - x0) * (w - ml - mr)

    def Y(v):
        return h - mb - (v - y0) / (y1 - y0) * (h - mt - mb)

    out = [f'<svg class="history" viewBox="0 0 {w} {h}" role="img" aria-label="best {_esc(name)} per generation">',
           f'<text x="{ml}" y="18" class="title">best {_esc(name)}</text>']
    for t in _ticks(y0, y1):
        out.append(f'<line x1="{ml}" x2="{w - mr}" y1="{Y(t):.1f}" y2="{Y(t):.1f}" class="grid"/>'
                   f'<text x="{ml - 6}" y="{Y(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for t in _ticks(x0, x1, integer=True):
        out.append(f'<text x="{X(t):.1f}" y="{h - mb + 18}" text-anchor="middle">{t}</text>')
    out.append(f'<text x="{(ml + w - mr) / 2}" y="{h - 6}" text-anchor="middle">generation</text>')
    path = []
    for i, (g, v) in enumerate(points):
        if i:
            path.append(f"{X(g):.1f},{Y(points[i - 1][1]):.1f}")
        path.append(f"{X(g):.1f},{Y(v):.1f}")
    out.append(f'<polyline class="best" points="{" ".join(path)}"/>')
    out.append(f'<circle class="best" cx="{X(points[-1][0]):.1f}" cy="{Y(points[-1][1]):.1f}" r="4">'
               f"<title>generation {points[-1][0]}: {_fmt(points[-1][1])}</title></circle></svg>")
    return "".join(out)


def _ticks(a: float, b: float, integer: bool = False, count: int = 5) -> list:
    span = b - a
    if span <= 0:
        return [a]
    step = 10 ** math.floor(math.log10(span / count))
    for m in (1, 2, 5, 10):
        if span / (step * m) <= count:
            step *= m
            break
    if integer:
        step = max(1, round(step))
    first = math.ceil(a / step) * step
    out, t = [], first
    while t <= b + 1e-12:
        out.append(int(round(t)) if integer else round(t, 12))
        t += step
    return out


def evolution_section(store, row, config: dict, folder: Path | None, poly_mathml, closed_form_mathml) -> str:
    """The ``evolution`` section of an evolve campaign (see the module docstring)."""
    names = list((config.get("search") or {}).get("objectives") or [])
    history, best = load_history(folder)
    parts = [f'<section id="evolution"><h2>Evolutionary search ({len(history)} generations bred after the '
             "initial population)</h2>"]
    search = config.get("search") or {}
    budget = " or ".join(([f"{search['generations']} generations"] if search.get("generations") else [])
                         + ([f"{search['minutes']} minutes"] if search.get("minutes") else []))
    parts.append(f"<p>NSGA-II over the coefficients of the space, population {search.get('population', '–')}, "
                 f"budget {budget or 'none'} (whichever ends first), triage {_esc(search.get('triage', 'off'))}. "
                 "Objectives:</p><ul>")
    parts += [f"<li><b>{_esc(n)}</b>: {_esc(OBJECTIVES.get(n, ('',))[0])}</li>" for n in names]
    parts.append("</ul>")
    if not history:
        parts.append('<p class="note">No per-generation history in the run folder (a search run before it was '
                     "recorded, or none that finished a generation).</p>")
    else:
        parts.append('<h3 id="evolution-history">Best value per generation</h3><div class="histories">'
                     + "".join(history_svg(n, _best_so_far(history, j, n)) for j, n in enumerate(names))
                     + "</div>")
        last = history[-1]
        parts.append(f'<p class="note">After generation {last.generation}: {last.evaluations:,} fractions evaluated '
                     f"in {last.seconds:,.1f} s.</p>")
    if best:
        parts.append('<h3 id="evolution-best">Best fractions per objective</h3>')
        cid = row["id"]
        for j, name in enumerate(names):
            rows, shown = [], set()
            for v, a, b in (best[j] if j < len(best) else []):
                value = _value(name, v)
                if value is None:
                    continue
                # Shown as stored: the canonical form, whose limit the identification is of
                # (a genome with a negative leading a(n) has the opposite limit).
                canon = PCF(a, b).canonical()
                a, b = list(canon.a), list(canon.b)
                if (tuple(a), tuple(b)) in shown:
                    continue  # a trivial equivalent of a fraction above it
                shown.add((tuple(a), tuple(b)))
                fid = store.formula_id(pcf_key(a, b), cid)
                ident = store.conn.execute("SELECT closed_form, constant FROM identifications WHERE formula_id=?",
                                           (fid,)).fetchone() if fid is not None else None
                rows.append(f"<tr><td>{_fmt(value)}</td><td>{poly_mathml(a)}</td><td>{poly_mathml(b)}</td>"
                            f"<td>{closed_form_mathml(ident['closed_form']) if ident else 'not identified'}</td>"
                            f"<td>{'#' + str(fid) if fid is not None else 'not stored (does not converge)'}</td></tr>")
            parts.append(f'<h4>{_esc(name)}</h4>' + (
                f'<table class="best-{_esc(name)}"><thead><tr><th>{_esc(name)}</th><th>a(n)</th><th>b(n)</th>'
                f"<th>limit</th><th>stored as</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
                if rows else "<p>No converging fraction.</p>"))
    return "".join(parts) + "</section>"
