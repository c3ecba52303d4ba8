"""The work-unit pipeline (:func:`discovery.campaign.pcf.process_batch`) on hand-picked PCFs."""

import numpy as np
import pytest

from discovery.campaign import load_config
from discovery.campaign.pcf import process_batch
from discovery.pcf import PCF, to_arrays
from discovery.pcf.kernels import Status, evaluate

from campaigns import campaign_toml

CONFIG = campaign_toml(
    campaign={"name": "slow", "kind": "pcf"},
    space={"degree_a": 1, "degree_b": 2, "bound": 2},
    search={"strategy": "enumerate", "depth": 1000, "metrics_depth": 1500, "sample": 700},
    identify={"constants": ["pi", "e"], "digits": 20, "confirm_digits": 40},
)


def test_slow_alternating_convergence_is_kept(tmp_path):
    # a = 5, b = 2n^2 + n - 1 misses the campaign's rtol 1e-12 at depth 1000 (errors alternate and
    # shrink slowly) and meets it by 3000; a = 1, b = n^12 oscillates (even and odd parts tend to
    # different values).
    path = tmp_path / "slow.toml"
    path.write_text(CONFIG)
    pcfs = [PCF([5], [2, 1, -1]), PCF([1], [1] + [0] * 12), PCF([2, 1], [1, 0, 0])]
    A, B = to_arrays(pcfs)
    assert evaluate(A[:1], B[:1], 1000, rtol=1e-12).status[0] != Status.CONVERGED
    out = process_batch(A, B, load_config(path))
    assert out["candidates"] == 3 and out["converged"] == 2
    kept = {r["row"] for r in out["pcfs"]}
    assert kept == {0, 2}
    record = next(r for r in out["pcfs"] if r["row"] == 0)
    assert np.isfinite(record["metrics"]["delta"])
    assert record["metrics"]["limit_value"] == pytest.approx(5.32120138002, rel=1e-9)
