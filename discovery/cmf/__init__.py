"""Conservative matrix fields: the type and its exact walks (:mod:`.field`), trajectories as
recurrences and PCFs (:mod:`.convert`), shipped and user CMFs (:mod:`.known`)."""

from discovery.cmf.convert import Mobius, TrajectoryPCF, recurrence, recurrence_polynomials, trajectory_pcf
from discovery.cmf.field import CMF, StepPolynomials, Walk
from discovery.cmf.known import known_cmf, known_examples, known_names, load_cmfs

__all__ = ["CMF", "Mobius", "StepPolynomials", "TrajectoryPCF", "Walk", "known_cmf", "known_examples",
           "known_names", "load_cmfs", "recurrence", "recurrence_polynomials", "trajectory_pcf"]
