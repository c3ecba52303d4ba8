"""Learned triage: predict from cheap float features which PCFs are worth the exact stage.

The exact stage of the pipeline (gcd(pₙ, qₙ) with exact integers, for FR δ and the growth of the
reduced denominator) costs far more than the float kernels.  A campaign labels its own candidates
as it measures them — *interesting* when FR δ > 0 (for a fraction that does not converge
factorially: when the degree of a(n) beats half that of b(n), δ > 0 is the rule, two thirds of
such fractions in the NeurIPS 2024 space, and says nothing), when the factorial reduction is strong
or when the limit was identified — and a gradient-boosting classifier (scikit-learn's
``HistGradientBoostingClassifier``; on 35,000 PCFs of the NeurIPS 2024 space, half to train, it
kept 3.1 % of the other half at recall 0.99 where a (64, 64) MLP kept 2.5 %, but it trained in
3 s against 15 s and takes NaN features as they come) learns to predict that label from features the float
kernels give for free: the coefficients, the eigenvalue ratio, the growth of qₙ and the float
error trace at a few depths.

``rank`` orders the exact stage by the model's score; ``drop`` skips candidates scored below a
threshold calibrated on held-back labelled candidates to a stated recall.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from discovery.errors import InputError
from discovery.forest import Forest
from discovery.pcf.dynamics import eigenvalues
from discovery.pcf.exact import walk
from discovery.pcf.kernels import error_traces

MODES = ("off", "rank", "drop")
# A reduced denominator at least 30 % shorter (in digits) than qₙ: random PCFs of every space
# measured here stay below 0.1, template families reach 0.2-0.3, formulas 0.4-0.8.
STRONG_REDUCTION = 0.3
_FEATURE_DEPTHS = 4
_EARLY_DEPTHS = (8, 16, 32)
# HistGradientBoosting's largest number of bins per feature.
_BINS = 255


def factorial_reduction(naive_delta, delta):
    """The share of qₙ's digits that the gcd removes, 1 − log q̃ₙ / log qₙ, from naive and FR δ.

    Both δ have the same numerator −log|L − pₙ/qₙ|, so (1 + δ_naive) / (1 + δ) = log q̃ₙ / log qₙ.
    NaN where a δ is missing or 1 + δ is zero.
    """
    naive_delta = np.asarray(naive_delta, dtype=float)
    delta = np.asarray(delta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - (1.0 + naive_delta) / (1.0 + delta)
    return np.where(np.isfinite(out), out, np.nan)


def labels(delta, naive_delta, convergence_class, identified) -> np.ndarray:
    """The label triage predicts: FR δ > 0 without factorial convergence, strong factorial
    reduction, or identified."""
    delta = np.asarray(delta, dtype=float)
    fr = factorial_reduction(naive_delta, delta)
    factorial = np.asarray(convergence_class, dtype=object) == "factorial"
    with np.errstate(invalid="ignore"):
        return ((delta > 0) & ~factorial) | (fr >= STRONG_REDUCTION) | np.asarray(identified, dtype=bool)


def features(A: np.ndarray, B: np.ndarray, depth: int) -> np.ndarray:
    """Cheap features of PCFs (rows of A, B) from the float kernels only.

    Columns: the coefficients, log|λ₊/λ₋| and the complex flag, log|qₙ|/n and
    −log|L − pₙ/qₙ|/n at a few depths below ``depth``, the naive δ at the deepest of them, and the
    share of qₙ's digits that gcd(pₙ, qₙ) removes at n = 8, 16, 32 (exact integers of a few
    dozen digits: the early sign of factorial reduction, for a small part of the cost of the
    exact stage at depth 1000).
    """
    A = np.asarray(A, dtype=np.int64)
    B = np.asarray(B, dtype=np.int64)
    depths = sorted({max(2, depth * (k + 1) // (2 * _FEATURE_DEPTHS)) for k in range(_FEATURE_DEPTHS)})
    eig, cplx = eigenvalues(A, B)
    cols = [A.astype(float), B.astype(float), eig[:, None], cplx[:, None].astype(float)]
    if len(A):
        tr = error_traces(A, B, depth, depths)
        n = np.asarray(depths, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            cols += [tr.log_q / n, -tr.log_error / n, (-tr.log_error[:, -1] / tr.log_q[:, -1] - 1.0)[:, None]]
    else:
        cols += [np.empty((0, 2 * len(depths) + 1))]
    cols.append(_early_reduction(A, B))
    X = np.hstack(cols)
    return np.where(np.isfinite(X), X, np.nan)


def _early_reduction(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    from math import gcd, log

    out = np.full((len(A), len(_EARLY_DEPTHS)), np.nan)
    for i, (a, b) in enumerate(zip(A.tolist(), B.tolist())):
        found = walk(a, b, _EARLY_DEPTHS)
        for j, d in enumerate(_EARLY_DEPTHS):
            p, q = found[d][:2]
            if abs(q) > 1:
                out[i, j] = log(gcd(p, q)) / log(abs(q))
    return out


@dataclass
class TriageModel:
    """A classifier of *interesting* candidates and the score threshold of ``drop``.

    Attributes
    ----------
    model : Forest or None
        The fitted classifier's trees (:class:`discovery.forest.Forest`: a few flat arrays that
        workers receive cheaply); None when the labelled data had a single class (nothing to
        learn: everything is kept).
    threshold : float
        Candidates scored below it are dropped (−inf keeps everything).
    recall : float
        Share of held-back interesting candidates scored at or above ``threshold``.
    kept : float
        Share of held-back candidates at or above ``threshold``.
    trained_on : int
        Labelled candidates (training and held back).
    edges : tuple of ndarray
        Per feature, the cut points its values are binned by before the classifier sees them
        (:func:`bin_edges`).
    """

    model: object
    threshold: float
    recall: float
    kept: float
    trained_on: int
    edges: tuple = ()

    def score(self, X: np.ndarray) -> np.ndarray:
        """Probability of *interesting* for each row (all ones without a model)."""
        if self.model is None or not len(X):
            return np.ones(len(X))
        return self.model.probability(binned(X, self.edges))

    def keep(self, X: np.ndarray) -> np.ndarray:
        """Which rows ``drop`` keeps."""
        return self.score(X) >= self.threshold


@dataclass(frozen=True)
class ScorerFile:
    """A :class:`TriageModel`'s scoring read from a file (:func:`save_scorer`): what a task sent
    to workers on this machine carries instead of the trees, which each worker then reads once.

    Attributes
    ----------
    path : str
    """

    path: str

    def score(self, X: np.ndarray) -> np.ndarray:
        """:meth:`TriageModel.score` of the model saved there."""
        return _read_scorer(self.path).score(X)


def save_scorer(model: TriageModel, path: str | Path) -> ScorerFile:
    """Write the trees and bin edges of a model with trees to ``path`` (an ``.npz`` file).

    Raises
    ------
    InputError
        For a model without trees (a single class: it scores everything 1, with nothing to save).
    """
    if model.model is None:
        raise InputError("a triage model without trees has no scorer to save")
    forest = model.model
    arrays = {f.name: np.asarray(getattr(forest, f.name)) for f in fields(forest)}
    arrays.update({f"edges_{j}": e for j, e in enumerate(model.edges)})
    np.savez(path, **arrays)
    return ScorerFile(str(path))


@functools.lru_cache(maxsize=2)
def _read_scorer(path: str) -> TriageModel:
    # Workers score with the model of the current generations; two cover a change of models.
    with np.load(path, allow_pickle=False) as data:
        forest = Forest(**{f.name: data[f.name] for f in fields(Forest) if f.name != "baseline"},
                        baseline=float(data["baseline"]))
        edges = tuple(data[f"edges_{j}"] for j in range(sum(k.startswith("edges_") for k in data.files)))
    return TriageModel(forest, -math.inf, math.nan, math.nan, 0, edges)


def train(X: np.ndarray, y: np.ndarray, recall: float = 0.99, seed: int = 0) -> TriageModel:
    """Fit the classifier on part of the labelled rows and calibrate the threshold on the rest.

    Parameters
    ----------
    X, y : ndarray
        Features (:func:`features`) and labels (:func:`labels`).
    recall : float
        Share of held-back interesting rows the threshold must keep, in (0, 1].
    seed : int
        Split and model seed (the result is a function of the data and seed alone).

    Returns
    -------
    TriageModel
        With no model and a −inf threshold when the rows hold a single class or too few
        interesting rows to calibrate on (fewer than 10 held back): nothing can be dropped safely.
    """
    if not 0 < recall <= 1:
        raise InputError(f"triage recall must be in (0, 1], got {recall!r}")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=bool)
    rng = np.random.default_rng(seed)
    held = rng.random(len(y)) < 0.3
    if y[held].sum() < 10 or y[~held].sum() < 10 or (~y).sum() < 10:
        return TriageModel(None, -math.inf, 1.0, 1.0, len(y))
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, class_weight="balanced",
                                           early_stopping=False, random_state=seed)
    edges = bin_edges(X[~held])
    model = Forest.from_sklearn(model.fit(binned(X[~held], edges), y[~held]))
    scores = model.probability(binned(X[held], edges))
    positive = np.sort(scores[y[held]])
    # The largest threshold that keeps at least `recall` of the held-back positives.
    threshold = float(positive[int(math.floor((1.0 - recall) * len(positive)))])
    return TriageModel(model, threshold, float((scores[y[held]] >= threshold).mean()),
                       float((scores >= threshold).mean()), len(y), edges)


def bin_edges(X: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per column of X, at most 254 cut points (NaN left out): every distinct value but the
    smallest where there are at most 255, else the distinct values among the 1/255, ..., 254/255
    quantiles.

    The classifier bins every feature into 255 bins itself; weighted by the classes' balance, it
    computes each of the 254 cut points by a separate weighted percentile, which took three
    quarters of the training time of an evolve campaign's surrogate.  Binned here first, each
    feature has at most 255 distinct values, which it takes as they are.
    """
    X = np.asarray(X, dtype=float)
    levels = np.arange(1, _BINS) / _BINS
    edges = []
    for col in X.T:
        distinct = np.unique(col[~np.isnan(col)])
        edges.append(distinct[1:] if len(distinct) <= _BINS else
                     np.unique(np.quantile(col[~np.isnan(col)], levels, method="lower")))
    return tuple(edges)


def binned(X: np.ndarray, edges: tuple[np.ndarray, ...]) -> np.ndarray:
    """X with each value replaced by the number of its column's cut points at or below it (NaN
    stays NaN: the classifier's missing-value bin); X itself when ``edges`` is empty."""
    X = np.asarray(X, dtype=float)
    if not edges:
        return X
    out = np.empty_like(X)
    for j, cuts in enumerate(edges):
        out[:, j] = np.searchsorted(cuts, X[:, j], side="right")
    return np.where(np.isnan(X), np.nan, out)
