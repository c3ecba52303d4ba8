"""A PCF genome for the evolution engine's tests: the coefficients (a1, a0, b2, b1, b0) of
a(n) = a1 n + a0, b(n) = b2 n^2 + b1 n + b0; objectives: maximise the irrationality measure delta,
minimise the coefficient size."""

import numpy as np

from discovery.pcf.dynamics import metrics


def evaluate_pcf_genomes(genomes):
    A = np.array([g[:2] for g in genomes], dtype=np.int64)
    B = np.array([g[2:] for g in genomes], dtype=np.int64)
    delta = metrics((A, B), depth=600, sample=300, fit_points=(6, 125, 250, 500), workers=1)["delta"]
    size = np.abs(np.array(genomes)).sum(axis=1)
    return np.column_stack([np.where(np.isfinite(delta), -delta, 10.0), size])


def mutate_pcf_genome(g, rng):
    while True:
        child = list(g)
        k = int(rng.integers(5))
        child[k] = int(np.clip(child[k] + rng.choice([-1, 1]), -5, 5))
        if any(child[2:]) and any(child[:2]):
            return tuple(child)
