"""Conservative matrix fields: the type (:mod:`.field`), a trajectory's step polynomials and exact
walks (:mod:`.steps`, with the numba multipoint evaluation of :mod:`.multipoint` and the product
trees of :mod:`.products`), trajectories as recurrences and PCFs (:mod:`.convert`), shipped and user
CMFs (:mod:`.known`), exact gauges between PCF recurrences (:mod:`.gauge`) and the placement of
formulas on trajectories (:mod:`.unify`)."""

from discovery.cmf.convert import Mobius, TrajectoryPCF, recurrence, recurrence_polynomials, trajectory_pcf
from discovery.cmf.field import CMF, StepPolynomials, Walk
from discovery.cmf.known import known_cmf, known_examples, known_names, load_cmfs
from discovery.cmf.unify import Placement, Trajectory, TrajectoryIndex, place

__all__ = ["CMF", "Mobius", "Placement", "StepPolynomials", "Trajectory", "TrajectoryIndex", "TrajectoryPCF", "Walk",
           "known_cmf", "known_examples", "known_names", "load_cmfs", "place", "recurrence", "recurrence_polynomials",
           "trajectory_pcf"]
