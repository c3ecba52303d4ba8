import numpy as np
import pytest

from discovery.constants import parse
from discovery.identify import mitm_sweep
from discovery.pcf import PCF
from discovery.pcf.mitm import mobius_table, match
from discovery.pcf.space import enumerate_box


def test_table_entries_are_the_transforms_they_claim():
    table = mobius_table(["pi", "e"], bound=2)
    assert np.all(np.diff(table.values) >= 0)
    xs = {"pi": np.pi, "e": np.e}
    for k in range(0, len(table.values), 37):
        c0, c1, c2, c3 = table.coeffs[k]
        x = xs[table.names[table.constant[k]]]
        assert table.values[k] == pytest.approx((c0 + c1 * x) / (c2 + c3 * x), rel=1e-14)
        assert c0 * c3 - c1 * c2 != 0 and (c1 or c3)
    # One entry per projective class: no vector is a multiple of another.
    keys = {(int(table.constant[k]), *map(int, table.coeffs[k])) for k in range(len(table.values))}
    assert len(keys) == len(table.values)
    with pytest.raises(ValueError, match="bound"):
        mobius_table(["pi"], bound=0)


def test_match_equals_brute_force():
    table = mobius_table(["pi", "ln2"], bound=3)
    rng = np.random.default_rng(0)
    limits = np.concatenate([rng.choice(table.values, 40) * (1 + 1e-12), rng.uniform(-5, 5, 40), [np.nan]])
    rows, entries = match(limits, table, rtol=1e-9, max_hits=50)
    got = set(zip(rows.tolist(), entries.tolist()))
    want = {
        (i, j)
        for i, v in enumerate(limits) if np.isfinite(v)
        for j in np.nonzero(np.abs(table.values - v) <= 1e-9 * max(1, abs(v)))[0].tolist()
    }
    assert got == want and len(got) >= 40


def test_sweep_finds_and_confirms_known_kinds():
    A, B = enumerate_box(1, 1, 2)
    table = mobius_table(["e", "phi", "sqrt2", "bessel_i1_i0", "e2"], bound=3)
    hits, stats = mitm_sweep(A, B, table, depth=500)
    assert stats["evaluated"] == len(A) and stats["confirmed"] == len(hits) > 5
    constants = {h.constant for h in hits.values()}
    assert {"e", "phi", "bessel_i1_i0"} <= constants
    for row, h in hits.items():
        assert h.digits_verified >= 60 and 0 <= row < len(A)
        limit = PCF(A[row].tolist(), B[row].tolist()).limit(2000, dps=80).value
        assert abs(limit - parse(h.closed_form).value(80)) < 1e-50
