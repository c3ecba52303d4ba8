"""Constants tuned for float32 evaluation.

A program tuned in float64 and then run in float32 rounds every constant and every operation to
float32; its best float32 constants are usually not the float64 optimum rounded.  :func:`tune_float32`
searches the float32-representable constants around the given ones, a few float32 steps at a time
(coordinate moves of ±1, ±2, ±4, ... ULPs of each constant, all candidates of a round judged in one
population run), minimising the max ULP error on a dense float32 set (every ``stride``-th float32 of
the interval), ties broken by the max error in ULPs of the exact values.  The program runs exactly
as its C with ``float`` does (:mod:`discovery.programs.float32`: ``fma`` rounds once, as the
hardware's ``fmaf``).  The dense set only steers: the error a caller reports comes from the
exhaustive check (:func:`discovery.programs.verify.float32_ulp_errors`).
"""

from __future__ import annotations

import numpy as np

from discovery.programs.float32 import float32_range, float32_span, from_ordered, ordered, ulp_scan
from discovery.programs.graph import Program
from discovery.programs.kernels import pack
from discovery.programs.targets import Target
from discovery.programs.verify import reference32


def dense_float32(target: Target, count: int = 1 << 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """About ``count`` float32 points strided evenly in float order over the interval (both ends
    included), their correctly rounded float32 target values and float64 exact values."""
    a, b = float32_span(target.interval)
    stride = max(1, (b - a) // count)
    X = np.unique(np.concatenate([float32_range(a, b + 1, stride), float32_range(b, b + 1)]))
    ref, exact = reference32(target, X)
    return X, ref, exact


def tune_float32(program: Program, target: Target, points=None, steps=(1, 2, 4, 8, 16, 64, 256),
                 rounds: int = 40) -> tuple[Program, int, float]:
    """The program with float32 constants minimising its float32 error on a dense set.

    Parameters
    ----------
    program : Program
        Its constants (float64) are the starting point, rounded to float32.
    target : Target
    points : (X32, ref32, exact), optional
        The dense set (default :func:`dense_float32`).
    steps : sequence of int
        Moves tried for each constant, in float32 ULPs (both signs).
    rounds : int
        At most this many improving moves.

    Returns
    -------
    (Program, int, float)
        The program (its constants exactly float32 values), its max ULP error on the dense set
        and its max error there in ULPs of the exact values.
    """
    X, ref, exact = points if points is not None else dense_float32(target)
    prog = program.simplified()
    K = len(prog.consts)
    current = ordered(np.array(prog.consts, dtype=np.float32))

    def scores(candidates: np.ndarray):
        packed = pack([prog] * len(candidates))
        consts32 = np.zeros((len(candidates), packed.consts.shape[1]), dtype=np.float32)
        consts32[:, :K] = from_ordered(candidates)
        w, _, we = ulp_scan(packed, consts32, X, ref, exact)
        return w, we

    w, we = scores(current[None, :])
    best = (int(w[0]), float(we[0]))
    if K == 0:
        return prog, best[0], best[1]
    moves = np.array([(k, s) for k in range(K) for step in steps for s in (step, -step)])
    for _ in range(rounds):
        candidates = np.repeat(current[None, :], len(moves), axis=0)
        candidates[np.arange(len(moves)), moves[:, 0]] += moves[:, 1]
        w, we = scores(candidates)
        i = min(range(len(moves)), key=lambda j: (w[j], we[j]))
        if (int(w[i]), float(we[i])) >= best:
            break
        best, current = (int(w[i]), float(we[i])), candidates[i]
    return prog.with_consts([float(c) for c in from_ordered(current)]), best[0], best[1]
