"""Gradient-boosted trees in a few flat arrays, scored by a numba kernel.

The triage surrogate is a scikit-learn ``HistGradientBoostingClassifier`` of 200 trees.  Pickled
as scikit-learn keeps it (a list of tree objects), it is some 800 kB that takes 1.5 ms to pickle
and as long to unpickle, and an evolve campaign sends it with every breeding task: that
transport cost more than the scoring.  :class:`Forest` keeps only what predicting needs -- per
node its feature, threshold, side of missing values, children and leaf value -- in seven
contiguous arrays, which travel as raw buffers, and scores rows exactly as scikit-learn does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np


@dataclass(frozen=True)
class Forest:
    """A binary classifier's boosted trees as flat arrays (node indices global to the forest).

    Attributes
    ----------
    feature, threshold, missing_left, left, right, leaf, value : ndarray
        Per node: the feature tested, the threshold (a value at or below it goes left), whether
        a missing value (NaN) goes left, the children, whether it is a leaf, and a leaf's value.
    roots : ndarray of int
        The root node of each tree.
    baseline : float
        The raw prediction before the trees (the log-odds of the training prior).
    """

    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    baseline: float

    @classmethod
    def from_sklearn(cls, model) -> Forest:
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` on numerical features.

        Raises
        ------
        ValueError
            For a multi-class model or one with categorical features (not used here).
        """
        if model.n_trees_per_iteration_ != 1:
            raise ValueError(f"a binary classifier is needed, got {model.n_trees_per_iteration_} trees per iteration")
        if model.is_categorical_ is not None and np.any(model.is_categorical_):
            raise ValueError("categorical features are not supported")
        nodes, roots, offset = [], [], 0
        for (tree,) in model._predictors:  # noqa: SLF001 - the fitted trees scikit-learn predicts with
            n = tree.nodes
            roots.append(offset)
            nodes.append((n["feature_idx"], n["num_threshold"], n["missing_go_to_left"], n["left"].astype(np.int64)
                          + offset, n["right"].astype(np.int64) + offset, n["is_leaf"], n["value"]))
            offset += len(n)
        cols = [np.concatenate([node[k] for node in nodes]) if nodes else np.empty(0) for k in range(7)]
        return cls(cols[0].astype(np.int32), cols[1].astype(np.float64), cols[2].astype(np.bool_),
                   cols[3].astype(np.int32), cols[4].astype(np.int32), cols[5].astype(np.bool_),
                   cols[6].astype(np.float64), np.array(roots, dtype=np.int32),
                   float(np.ravel(model._baseline_prediction)[0]))  # noqa: SLF001

    def raw(self, X: np.ndarray) -> np.ndarray:
        """The raw score (log-odds) of each row of X."""
        X = np.ascontiguousarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D, got shape {X.shape}")
        if len(self.feature) and X.shape[1] <= int(self.feature.max()):
            raise ValueError(f"X has {X.shape[1]} features; the trees test feature {int(self.feature.max())}")
        out = np.empty(len(X))
        _raw_scores(X, self.feature, self.threshold, self.missing_left, self.left, self.right, self.leaf,
                    self.value, self.roots, self.baseline, out)
        return out

    def probability(self, X: np.ndarray) -> np.ndarray:
        """The probability of the positive class for each row of X (the logistic of :meth:`raw`)."""
        return 1.0 / (1.0 + np.exp(-self.raw(X)))


@numba.njit(cache=True)
def _raw_scores(X, feature, threshold, missing_left, left, right, leaf, value, roots, baseline, out):
    for i in range(X.shape[0]):
        total = baseline
        for root in roots:
            node = root
            while not leaf[node]:
                x = X[i, feature[node]]
                if np.isnan(x):
                    node = left[node] if missing_left[node] else right[node]
                elif x <= threshold[node]:
                    node = left[node]
                else:
                    node = right[node]
            total += value[node]
        out[i] = total
