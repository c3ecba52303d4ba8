"""Hypothesis strategies shared by the tests."""

from hypothesis import strategies as st


def polynomials(max_degree=2, bound=5, nonzero=True):
    """Coefficient lists, highest degree first, optionally with a non-zero polynomial."""
    poly = st.lists(st.integers(-bound, bound), min_size=1, max_size=max_degree + 1)
    return poly.filter(lambda c: any(c)) if nonzero else poly
