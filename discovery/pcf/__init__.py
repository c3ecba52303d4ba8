"""Polynomial continued fractions: the value type, batch float kernels and exact convergents."""

from discovery.pcf.formula import PCF, LimitEstimate, from_arrays, to_arrays
from discovery.pcf.kernels import Evaluation, Status, Traces, evaluate, traces

__all__ = [
    "PCF",
    "LimitEstimate",
    "Evaluation",
    "Status",
    "Traces",
    "evaluate",
    "traces",
    "to_arrays",
    "from_arrays",
]
