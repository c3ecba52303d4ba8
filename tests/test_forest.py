"""The flat-array trees against scikit-learn's own prediction, and against a slow walk of each tree."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier

from discovery.forest import Forest


def _slow_raw(model, x) -> float:
    """The raw score of one row by walking scikit-learn's node records one by one."""
    total = float(np.ravel(model._baseline_prediction)[0])
    for (tree,) in model._predictors:
        node = tree.nodes[0]
        while not node["is_leaf"]:
            v = x[node["feature_idx"]]
            go_left = node["missing_go_to_left"] if math.isnan(v) else v <= node["num_threshold"]
            node = tree.nodes[node["left"] if go_left else node["right"]]
        total += float(node["value"])
    return total


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(1500, 5))
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X[:, 0]) + 0.5 * np.nan_to_num(X[:, 1]) + 0.4 * rng.normal(size=1500) > 0.8
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    return model, Forest.from_sklearn(model)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.one_of(st.floats(-5, 5), st.just(float("nan"))), min_size=5, max_size=5),
                min_size=1, max_size=20))
def test_scores_equal_the_slow_walk_and_scikit_learn(fitted, rows):
    model, forest = fitted
    X = np.array(rows)
    raw = forest.raw(X)
    assert raw == pytest.approx([_slow_raw(model, x) for x in X], abs=1e-12)
    assert forest.probability(X) == pytest.approx(model.predict_proba(X)[:, 1], abs=1e-12)


def test_bad_input_is_named(fitted):
    _, forest = fitted
    with pytest.raises(ValueError, match="2-D"):
        forest.raw(np.zeros(5))
    with pytest.raises(ValueError, match="features"):
        forest.raw(np.zeros((3, 2)))
    multi = HistGradientBoostingClassifier(max_iter=3).fit(np.arange(30.0)[:, None], np.arange(30) % 3)
    with pytest.raises(ValueError, match="binary"):
        Forest.from_sklearn(multi)
