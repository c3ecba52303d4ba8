"""discovery: search for formulas of mathematical constants and for short numerical programs."""

from discovery.pcf import PCF, Status, evaluate, from_arrays, to_arrays, traces
from discovery.version import __version__

__all__ = ["PCF", "Status", "evaluate", "traces", "to_arrays", "from_arrays", "__version__"]
