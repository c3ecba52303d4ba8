"""Straight-line programs that approximate a function, and their search.

Modules:

- :mod:`~discovery.programs.ops`: the operations and their integer codes, defined once.
- :mod:`~discovery.programs.graph`: the program type (value table, cost, simplification).
- :mod:`~discovery.programs.kernels`, :mod:`~discovery.programs.float32`,
  :mod:`~discovery.programs.precise`: numba evaluation in float64, in IEEE binary32 and in
  double-double.
- :mod:`~discovery.programs.targets`, :mod:`~discovery.programs.series`: target functions and
  their ground truth.
- :mod:`~discovery.programs.baselines`: classical approximations (Remez) and the search's seeds.
- :mod:`~discovery.programs.rational`, :mod:`~discovery.programs.tuning`,
  :mod:`~discovery.programs.projection`: exact fractions, constant tuning, variable projection.
- :mod:`~discovery.programs.verify`, :mod:`~discovery.programs.bound`: checked and proven errors.
- :mod:`~discovery.programs.moves`, :mod:`~discovery.programs.mutations`: structure moves and the
  random mutation operators.
- :mod:`~discovery.programs.fronts`: Pareto fronts judged on validation data.
- :mod:`~discovery.programs.search`: the search loop.
"""
