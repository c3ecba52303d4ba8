"""Pareto fronts of (operation count, max error) that a program search ends with, judged on data
the search did not choose them by.

A search ranks its programs on the training grid; :func:`validated_front` judges one program
per operation count on the 10x denser validation grid, :func:`ulp32_front` (the ``ulp32`` error
mode) by an exhaustive float32 check, and :func:`judged_front` picks the one the target's error
mode asks for.  The fronts of several islands are judged the same way, after their union.
"""

from __future__ import annotations

import math

from discovery.programs.kernels import population_errors
from discovery.programs.targets import Target
from discovery.programs.verify import float32_ulp_errors


def _best_per_cost(candidates) -> dict:
    """cost -> (program, error) of the lowest error among ``(cost, program, error)`` triples."""
    best: dict = {}
    for cost, prog, err in candidates:
        if cost not in best or err < best[cost][1]:
            best[cost] = (prog, err)
    return best


def validated_front(candidates, target: Target) -> tuple[dict, dict]:
    """The Pareto front of (cost, max error) among ``(cost, program, training error)`` triples,
    judged on the validation grid.

    The training grid chose the programs; the validation grid, 10x denser, judges them (a pole or
    a wiggle between training points shows there).  Of several programs of one cost the one with
    the lowest training error stands for it.

    Returns
    -------
    front : dict
        cost -> (program, training error), costs increasing, errors decreasing.
    validation : dict
        cost -> validation max error.
    """
    best = _best_per_cost(candidates)
    costs = sorted(best)
    programs = [best[c][0] for c in costs]
    checked = population_errors(programs, *target.validation, target.relative) if costs else []
    front, validation, floor = {}, {}, math.inf
    for cost, err in zip(costs, checked):
        if err < floor:
            front[cost], validation[cost] = best[cost], float(err)
            floor = err
    return front, validation


def ulp32_front(candidates, target: Target, exhaustive: bool = True) -> tuple[dict, dict, dict]:
    """As :func:`validated_front` with training errors in ULPs, judged by an exhaustive float32
    check (:func:`discovery.programs.verify.float32_ulp_errors`) of one program per cost at once.

    A costlier program must have a smaller exhaustive max ULP error, or an equal one and a smaller
    error in ULPs of the exact values.  Without ``exhaustive`` the training errors judge (for
    intermediate fronts, such as those of island epochs) and ``validation`` and ``checks`` are
    empty.

    Returns
    -------
    front : dict
        cost -> (program, training max ULP error).
    validation : dict
        cost -> exhaustive max ULP error.
    checks : dict
        cost -> the exhaustive check's report.
    """
    best = _best_per_cost(candidates)
    costs = sorted(best)
    reports = dict(zip(costs, float32_ulp_errors([best[c][0] for c in costs], target))) if exhaustive and costs else {}

    def score(cost):
        return (reports[cost]["max_ulp"], reports[cost]["max_ulp_exact"]) if exhaustive else (best[cost][1], 0.0)

    front, floor = {}, (math.inf, math.inf)
    for cost in costs:
        if score(cost) < floor:
            front[cost], floor = best[cost], score(cost)
    checks = {c: reports[c] for c in front if c in reports}
    return front, {c: float(r["max_ulp"]) for c, r in checks.items()}, checks


def judged_front(candidates, target: Target, exhaustive: bool = True) -> tuple[dict, dict, dict | None]:
    """The front the target's error mode asks for: :func:`ulp32_front` under ``ulp32`` (training
    errors in ULPs), :func:`validated_front` otherwise.

    Parameters
    ----------
    candidates : iterable of (int, Program, float)
        ``(cost, program, training error)`` triples.
    target : Target
    exhaustive : bool
        Under ``ulp32``, check every float32 of the interval (see :func:`ulp32_front`).

    Returns
    -------
    front : dict
        cost -> (program, training error), costs increasing, errors decreasing.
    validation : dict
        cost -> validation max error (exhaustive max ULP error under ``ulp32``).
    checks : dict or None
        Under ``ulp32``, cost -> the exhaustive check's report; None otherwise.
    """
    if target.error == "ulp32":
        return ulp32_front(candidates, target, exhaustive)
    front, validation = validated_front(candidates, target)
    return front, validation, None
