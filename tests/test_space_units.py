"""Lazy coefficient spaces: work units computed from their index alone (discovery.pcf.space.Space)."""

import itertools
import math
import random

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from discovery import PCF
from discovery.errors import InputError
from discovery.pcf.space import Space, enumerate_box, enumerate_ranges, space_size


def _values(r):
    return range(r[0], r[1] + 1, r[2] if len(r) > 2 else 1)


def _classes(a_ranges, b_ranges):
    """Canonical forms of every PCF of the ranges, from PCF.canonical one by one."""
    return {
        PCF(a, b).canonical()
        for a in itertools.product(*map(_values, a_ranges)) if any(a)
        for b in itertools.product(*map(_values, b_ranges)) if any(b)
    }


def _all_units(space, unit_size):
    parts = [space.unit(i, unit_size) for i in range(space.units(unit_size))]
    if not parts:  # a space with no PCF at all (a = 0 and b = 0 only)
        return np.zeros((0, len(space.a_ranges)), np.int64), np.zeros((0, len(space.b_ranges)), np.int64)
    return np.vstack([A for A, _ in parts]), np.vstack([B for _, B in parts])


def _naive_unit(space, index, unit_size):
    """The rows of a unit decoded with Python ints and tested by brute force over multipliers."""
    ranges = (*space.a_ranges, *space.b_ranges)
    na = len(space.a_ranges)
    # A symmetric box walks the second half of a's grid (after the zero polynomial): the first half
    # holds no canonical row.
    grid_a = math.prod(len(_values(r)) for r in space.a_ranges)
    grid_b = math.prod(len(_values(r)) for r in space.b_ranges)
    offset = (grid_a + 1) // 2 * grid_b if space.symmetric else 0
    inside = lambda vec: all(v in _values(r) for v, r in zip(vec, ranges))  # noqa: E731
    reach = max(max(-r[0], r[1]) for r in space.a_ranges)
    rows = []
    for raw in range(index * unit_size, min((index + 1) * unit_size, space.covered)):
        vec = []
        raw += offset
        for r in reversed(ranges):
            raw, digit = divmod(raw, len(_values(r)))
            vec.append(_values(r)[digit])
        vec = vec[::-1]
        a, b = vec[:na], vec[na:]
        if not any(a) or not any(b):
            continue
        canon = PCF(a, b).canonical()
        if space.symmetric:
            keep = canon == PCF(a, b)
        else:
            a0 = [0] * (na - len(canon.a)) + list(canon.a)
            b0 = [0] * (len(ranges) - na - len(canon.b)) + list(canon.b)
            members = [[k * c for c in a0] + [k * k * c for c in b0] for k in range(-reach, reach + 1) if k]
            keep = min(m for m in members if inside(m)) == vec
        if keep:
            rows.append(vec)
    rows = np.array(rows, dtype=np.int64).reshape(-1, len(ranges))
    return rows[:, :na], rows[:, na:]


def _assert_same(got, expected):
    assert got[0].dtype == np.int64 and got[1].dtype == np.int64
    assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


_general_range = st.tuples(st.integers(-5, 5), st.integers(0, 5), st.sampled_from([None, None, 1, 2, 3])).map(
    lambda t: (t[0], t[0] + t[1]) if t[2] is None else (t[0], t[0] + t[1], t[2])
)
_symmetric_range = st.integers(0, 3).map(lambda c: (-c, c))


@st.composite
def _spaces(draw, max_points=1500):
    kind = draw(st.sampled_from(["symmetric", "general", "mixed"]))
    pick = {"symmetric": _symmetric_range, "general": _general_range}.get(kind, _symmetric_range | _general_range)
    a = draw(st.lists(pick, min_size=1, max_size=3))
    b = draw(st.lists(pick, min_size=1, max_size=3))
    assume(space_size(a, b) <= max_points)
    return a, b


@given(_spaces(), st.integers(1, 2000))
def test_units_concatenate_to_enumerate_ranges(ranges, unit_size):
    space = Space(*ranges)
    na, nb = space_size(ranges[0], [(0, 0)]), space_size([(0, 0)], ranges[1])
    assert space.size == ((na - 1) // 2 * nb if space.symmetric else na * nb)
    # Keep the number of units small; unit size 1 has a test of its own.
    unit_size = max(unit_size, math.ceil(space.size / 40))
    _assert_same(_all_units(space, unit_size), enumerate_ranges(*ranges))


@pytest.mark.parametrize("a, b", [
    ([(-1, 1)] * 2, [(-1, 1)] * 3),                 # symmetric box
    ([(1, 4), (0, 2)], [(-2, 0), (0, 0), (0, 0)]),  # asymmetric
    ([(-4, 4, 2), (-3, 5)], [(-6, 6, 3), (1, 3)]),  # steps, a range without 0
    ([(-3, 3, 1)], [(-4, 4)]),                      # an explicit step 1 is a general range
    ([(2, 2)], [(-8, 8)]),                          # degree 0, one value of a
    ([(0, 0), (-2, 2)], [(-9, 9, 3)]),              # a(n) of lower degree than given
    ([(3, 9, 3), (-5, -1)], [(-8, 12, 4), (2, 7)]),
])
@pytest.mark.parametrize("unit_size", [1, 3, 64, 10**6])
def test_units_match_enumerate_ranges(a, b, unit_size):
    space = Space(a, b)
    assert space.units(unit_size) == math.ceil(space.size / unit_size)
    _assert_same(_all_units(space, unit_size), enumerate_ranges(a, b))


def test_box_units_match_enumerate_box():
    space = Space.from_box(1, 2, 2)
    assert space.symmetric and space.size == 12 * 5**3
    _assert_same(_all_units(space, 100), enumerate_box(1, 2, 2))


@given(_spaces(max_points=800), st.integers(1, 500))
def test_each_class_appears_once_across_units(ranges, unit_size):
    space = Space(*ranges)
    A, B = _all_units(space, max(unit_size, math.ceil(space.size / 40)))
    pcfs = [PCF(a.tolist(), b.tolist()).canonical() for a, b in zip(A, B)]
    assert len(set(pcfs)) == len(pcfs)
    assert set(pcfs) == _classes(*ranges)


@pytest.mark.parametrize("a, b", [
    ([(-2, 2)] * 2, [(-2, 2)] * 2), ([(-1, 1)] * 3, [(-3, 3)] * 2), ([(-4, 4)], [(-4, 4)]),
])
def test_symmetric_and_general_tests_agree_on_symmetric_boxes(a, b):
    # Writing the step turns the canonical-member test into the first-member test.
    canonical = Space(a, b)
    first = Space([(*r, 1) for r in a], [(*r, 1) for r in b])
    assert canonical.symmetric and not first.symmetric
    A, B = _all_units(canonical, 97)
    FA, FB = _all_units(first, 97)
    assert len(A) == len(FA)
    assert ({PCF(x.tolist(), y.tolist()).canonical() for x, y in zip(FA, FB)}
            == {PCF(x.tolist(), y.tolist()) for x, y in zip(A, B)})


def test_units_are_deterministic_and_independent_of_order():
    ranges = ([(-3, 3, 2), (-2, 3)], [(-4, 4), (1, 2, 1), (-2, 0)])
    size = 50
    forward = [Space(*ranges).unit(i, size) for i in range(Space(*ranges).units(size))]
    order = list(range(len(forward)))
    random.Random(3).shuffle(order)
    space = Space(*ranges)
    backward = {i: space.unit(i, size) for i in order}
    for i, expected in enumerate(forward):
        _assert_same(backward[i], expected)
        _assert_same(space.unit(i, size), expected)


def test_limit_covers_a_prefix_of_the_raw_grid():
    ranges = ([(-2, 3), (-1, 2)], [(-3, 3, 2), (-2, 2)])
    full = Space(*ranges)
    limited = Space(*ranges, limit=77)
    assert limited.covered == 77 and limited.units(10) == 8 and limited.units(1000) == 1
    _assert_same(_all_units(limited, 10), full.unit(0, 77))
    _assert_same(_all_units(limited, 1), limited.unit(0, 77))
    assert Space(*ranges, limit=10**9).covered == full.size
    assert len(_all_units(limited, 10)[0]) < len(enumerate_ranges(*ranges)[0])


def test_from_config_reads_campaign_space_tables():
    box = {"degree_a": 1, "degree_b": 2, "bound": 3, "a": None, "b": None}
    assert Space.from_config(box) == Space.from_box(1, 2, 3) == Space([[-3, 3]] * 2, [[-3, 3]] * 3)
    ranges = {"a": [[1, 4], [0, 2]], "b": [[-2, 0, 2], [0, 0], [0, 0]], "degree_a": None}
    space = Space.from_config(ranges, limit=5)
    assert space.a_ranges == ((1, 4), (0, 2)) and space.b_ranges == ((-2, 0, 2), (0, 0), (0, 0))
    assert space.limit == 5
    with pytest.raises(InputError, match="bound missing"):
        Space.from_config({"degree_a": 1, "degree_b": 1})
    with pytest.raises(InputError, match="go together"):
        Space.from_config({"a": [[0, 1]]})


@pytest.mark.parametrize("call, message", [
    (lambda s: s.unit(-1, 10), "unit -1 is out of range"),
    (lambda s: s.unit(s.units(10), 10), "unit 3 is out of range"),
    (lambda s: s.unit(1.0, 10), "unit 1.0 is out of range"),
    (lambda s: s.unit(True, 10), "unit True is out of range"),
    (lambda s: s.unit(0, 0), "unit_size must be a positive integer, got 0"),
    (lambda s: s.units(2.5), "unit_size must be a positive integer, got 2.5"),
])
def test_bad_unit_requests_raise(call, message):
    space = Space([(-2, 2)], [(0, 1), (-1, 1)])  # 30 raw points
    with pytest.raises(InputError, match=message):
        call(space)


@pytest.mark.parametrize("args, message", [
    (([], [(0, 1)]), "a: no coefficient ranges given"),
    (([(0, 1)], "0,1"), "b: no coefficient ranges given"),
    (([(2, 1)], [(0, 1)]), r"a: empty coefficient range \[2, 1\]"),
    (([(0, 1)], [(0, 4, 0)]), r"b: empty coefficient range \[0, 4, 0\]"),
    (([(0, 1.5)], [(0, 1)]), "a: coefficient range .* is not"),
    (([(0, 1, 2, 3)], [(0, 1)]), "a: coefficient range .* is not"),
    (([(0, 1)], [(0, 2**40)]), "b: coefficient range .* goes past"),
])
def test_bad_ranges_raise(args, message):
    with pytest.raises(InputError, match=message):
        Space(*args)


def test_bad_limit_and_box_raise():
    with pytest.raises(InputError, match="limit must be a positive integer, got 0"):
        Space([(0, 1)], [(0, 1)], limit=0)
    with pytest.raises(InputError, match="bound must be a positive integer"):
        Space.from_box(1, 1, 0)


@pytest.mark.parametrize("space", [
    Space.from_box(3, 3, 6),                 # 8.2e8 raw points
    Space([(-5, 4)] * 5, [(-5, 4)] * 5),     # 1e10 raw points, general test
    Space.from_box(10, 10, 10),              # 21**22 raw points, past int64
    Space([(-10, 10, 3)] * 12, [(-7, 12)] * 12),
])
def test_big_spaces_decode_units_lazily(space):
    units = space.units(20_000)
    A, B = space.unit(0, 20_000)
    assert A.shape[1] == len(space.a_ranges) and B.shape[1] == len(space.b_ranges)
    if space.symmetric:
        # The walk starts after the zero a(n): nearly every point is a canonical PCF.
        assert len(A) > 15_000
    else:
        assert len(A) == 20_000
    # Small units checked point by point, at the start, middle and end of the grid.
    for index in (0, 1, units // 2 * 400 + 7, space.units(50) - 1):
        _assert_same(space.unit(index, 50), _naive_unit(space, index, 50))


def test_units_past_int64_cross_the_split_of_the_grid():
    # 21**14 points of the 14 fast coordinates is the largest block the int64 decoding takes; a
    # unit of 10 across a block boundary decodes the 8 slow coordinates from two block numbers.
    # The block starts with a's leading coefficient 5, so the unit has canonical rows.
    space = Space.from_box(10, 10, 10)
    assert space.size > 2**63
    # The symmetric box walks the grid from the middle of a's grid on.
    offset = (21**11 + 1) // 2 * 21**11
    boundary = (15 * 21**7 + 6) * 21**14 - offset
    size = next(n for n in range(10, 40) if boundary % n)
    index = boundary // size
    assert index * size < boundary < (index + 1) * size
    assert len(space.unit(index, size)[0]) > 0
    _assert_same(space.unit(index, size), _naive_unit(space, index, size))
    general = Space([(-10, 10, 1)] * 11, [(-10, 10)] * 11)
    boundary = (15 * 21**7 + 6) * 21**14
    index = boundary // 10
    _assert_same(general.unit(index, 10), _naive_unit(general, index, 10))
