"""Integer-relation identification of limits, screened by LLL and confirmed at double precision.

A Möbius relation L = (c₀ + c₁x)/(c₂ + c₃x) with a catalog constant x is an integer relation among
[1, x, L, xL]; more constants or a higher degree extend the vector with their monomials.  A
candidate relation is

1. **screened** with LLL (python-flint) on ``digits`` digits of every entry;
2. **gated** by its return on investment: digits of agreement ÷ digits spent on coefficients must
   be at least :data:`MIN_ROI` (spurious relations among random numbers sit near 0.85, true ones
   far above 2); screening stops at the first relation whose return reaches
   :data:`DECISIVE_ROI`, in catalog order;
3. **confirmed** against a value known to at least twice as many digits: the relation must hold
   to ``2 * digits`` digits.  A relation that fails confirmation is never reported.

``digits_verified`` is the number of digits to which the confirmed relation holds, never more than
the value is known to.

**Escalation.**  By default the search escalates, stopping at the first confirmed relation and
within ``budget_seconds``: rational → Möbius in one constant of the core catalog → quadratic
irrational (these three whatever the budget) → Möbius in one constant of the rest of the catalog
→ degree 2 in one constant (on request) → two constants at once, linear and
Möbius (:data:`discovery.constants.PAIR_CONSTANTS`) → Möbius in products and powers of catalog
constants (ϖ²/π, π³√3, πG², :data:`discovery.constants.PRODUCT_CONSTANTS`).

**Digits available.**  A value known to fewer digits (a slowly converging fraction) is screened on
a third of them and must be confirmed on all the rest; ``digits_verified`` then says how few they
were.

**Modules.**  :mod:`~discovery.identify.lattice` (LLL, integers of a given number of digits, the
return of a relation), :mod:`~discovery.identify.bases` (the monomial bases of relations and the
hashed Möbius lookup), :mod:`~discovery.identify.escalation` (the stages, their screen and the
confirmation: :func:`identify`), :mod:`~discovery.identify.limits` (the limits of PCFs:
:func:`identify_pcf`), :mod:`~discovery.identify.campaigns` (cluster representatives and Möbius-table
matches) and :mod:`~discovery.identify.isolated` (evaluation in a child process).
"""

from discovery.identify.campaigns import (ESCALATION_SECONDS, REPRESENTATIVE_BUDGET, RepresentativeIdentifier,
                                          confirm_matches, mitm_sweep)
from discovery.identify.escalation import DECISIVE_ROI, DEFAULT_BUDGET, MIN_KNOWN, MIN_ROI, Identification, identify
from discovery.identify.isolated import EVALUATION_MEMORY, evaluate_isolated
from discovery.identify.lattice import MAX_MAGNITUDE, find_relation
from discovery.identify.limits import depth_for_digits, identify_pcf, pcf_value

__all__ = [
    "DECISIVE_ROI", "DEFAULT_BUDGET", "ESCALATION_SECONDS", "EVALUATION_MEMORY", "MAX_MAGNITUDE", "MIN_KNOWN",
    "MIN_ROI", "REPRESENTATIVE_BUDGET", "Identification", "RepresentativeIdentifier", "confirm_matches",
    "depth_for_digits", "evaluate_isolated", "find_relation", "identify", "identify_pcf", "mitm_sweep", "pcf_value",
]
