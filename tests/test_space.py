import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery import PCF
from discovery.pcf.space import canonical_arrays, canonical_mask, enumerate_box, sample_box


@given(st.lists(st.tuples(st.lists(st.integers(-6, 6), min_size=3, max_size=3),
                          st.lists(st.integers(-6, 6), min_size=3, max_size=3)), min_size=1, max_size=30))
def test_canonical_mask_matches_pcf_canonical(rows):
    A = np.array([r[0] for r in rows])
    B = np.array([r[1] for r in rows])
    mask = canonical_mask(A, B)
    for (a, b), keep in zip(rows, mask):
        if not any(a) or not any(b):
            assert not keep
        else:
            p = PCF(a, b)
            assert keep == (p.canonical() == p)


def test_enumerate_box_has_one_pcf_per_class():
    A, B = enumerate_box(1, 1, 2)
    pcfs = [PCF(a.tolist(), b.tolist()) for a, b in zip(A, B)]
    assert all(p.canonical() == p for p in pcfs)
    # Every PCF of the box maps to one of the enumerated classes.
    values = range(-2, 3)
    classes = {PCF([a1, a0], [b1, b0]).canonical() for a1 in values for a0 in values
               for b1 in values for b0 in values if (a1 or a0) and (b1 or b0)}
    assert classes == set(pcfs)


def test_paper_space_size():
    # The NeurIPS 2024 space, a and b of degree <= 2 with coefficients in [-5, 5]: 1,768,900 PCFs
    # with a and b not identically zero, in 882,838 classes.
    A, B = enumerate_box(2, 2, 5)
    assert len(A) == 882_838
    polys = np.array(list(itertools.product(range(-5, 6), repeat=3)))
    polys = polys[polys.any(axis=1)]
    full_a, full_b = np.repeat(polys, len(polys), axis=0), np.tile(polys, (len(polys), 1))
    assert len(full_a) == 1_768_900
    CA, CB = canonical_arrays(full_a, full_b)
    for i in np.random.default_rng(0).choice(len(full_a), 300, replace=False):
        assert PCF(CA[i].tolist(), CB[i].tolist()) == PCF(full_a[i].tolist(), full_b[i].tolist()).canonical()

    def keys(A, B):
        # Canonical coefficients stay in [-5, 5], so a row is one base-11 number.
        return (np.hstack([A, B]) + 5) @ 11 ** np.arange(6)

    # The enumeration is exactly the set of classes of the whole box, each once.
    assert np.array_equal(np.sort(keys(A, B)), np.unique(keys(CA, CB)))


def test_sample_box():
    A, B = sample_box(200, 2, 2, 5, seed=4)
    assert A.shape == (200, 3) and B.shape == (200, 3)
    assert canonical_mask(A, B).all()
    assert len({(tuple(a), tuple(b)) for a, b in zip(A, B)}) == 200
    assert np.array_equal(sample_box(50, seed=1)[0], sample_box(50, seed=1)[0])
    with pytest.raises(ValueError, match="bound"):
        sample_box(10, bound=0)


def test_enumerate_ranges_keeps_one_member_per_class():
    from discovery.pcf.space import enumerate_ranges

    A, B = enumerate_ranges([(1, 4), (0, 2)], [(-2, 0), (0, 0), (0, 0)])
    pcfs = [PCF(a.tolist(), b.tolist()) for a, b in zip(A, B)]
    classes = {p.canonical() for p in pcfs}
    assert len(classes) == len(pcfs)
    # Every PCF of the ranges is equivalent to a kept one.
    full = {PCF([a1, a0], [b2, 0, 0]).canonical() for a1 in range(1, 5) for a0 in range(3) for b2 in (-2, -1)}
    assert full == classes
    with pytest.raises(ValueError, match="empty coefficient range"):
        enumerate_ranges([(2, 1)], [(1, 1)])
