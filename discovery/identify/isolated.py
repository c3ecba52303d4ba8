"""Evaluation of a constant expression in a child process with a time and a memory limit."""

from __future__ import annotations

import os
import subprocess
import sys

import mpmath

from discovery.errors import InputError

EVALUATION_MEMORY = 2 * 2**30  # bytes of address space for evaluating an expression
# The folder holding the discovery package (discovery/identify/isolated.py), for the child's PYTHONPATH.
_PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_EVALUATE = """
import sys
import mpmath
from discovery.errors import InputError
text, dps, catalog_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    if catalog_file:
        from discovery.constants import load_catalog
        load_catalog(catalog_file)
    from discovery.constants import parse
    v = parse(text).value(dps)
except InputError as err:
    print(err, file=sys.stderr)
    sys.exit(2)
sign, man, exp, _ = v._mpf_
print(hex(-man if sign else man), exp)
"""


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (EVALUATION_MEMORY, EVALUATION_MEMORY))


def evaluate_isolated(text: str, dps: int, seconds: float, catalog_file: str | None = None) -> mpmath.mpf:
    """The value of a constant expression to ``dps`` digits, computed in a child process.

    mpmath's special functions have no cost bound one could check beforehand: their time depends
    on the arguments and steeply on the precision (``clsin(2.5, 1)`` takes seconds at 130 digits
    and minutes at 1,000; ``besselk(1, 1)`` 1.5 s at 1,000 digits, 11 s at 2,000), and GMP aborts
    the whole process on an integer of about 10^16 digits.  A child with a time and a memory
    limit turns every such case into one refusal.

    Parameters
    ----------
    text : str
        The expression, for :func:`discovery.constants.parse`.
    dps : int
        Digits wanted.
    seconds : float
        Time limit of the evaluation.
    catalog_file : str, optional
        A user catalog (TOML) the expression may use the names of.

    Returns
    -------
    mpmath.mpf
        The value, exact to the child's working precision (``dps + 10`` digits).

    Raises
    ------
    InputError
        When the expression is refused, is not a finite real number, or its evaluation exceeds
        ``seconds`` or :data:`EVALUATION_MEMORY`, or fails.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-c", _EVALUATE, text, str(int(dps)), catalog_file or ""]
    shown = text if len(text) <= 60 else text[:57] + "..."
    try:
        # The text is one argv item of our own script, read by the whitelisting parser, never run.
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds, env=env,  # noqa: S603
                              preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired:
        raise InputError(f"evaluating {shown!r} to {dps:,} digits took more than {seconds:g} s: refused "
                         "(fewer digits or a larger --budget may do)") from None
    lines = done.stderr.strip().splitlines()
    if done.returncode == 2 and lines:
        raise InputError(lines[-1])
    if done.returncode != 0:
        why = f"signal {-done.returncode}" if done.returncode < 0 else (lines[-1] if lines else f"status "
                                                                        f"{done.returncode}")
        if "MemoryError" in done.stderr:
            why = f"more than {EVALUATION_MEMORY / 2**30:g} GiB of memory"
        raise InputError(f"evaluating {shown!r} to {dps:,} digits failed: {why}")
    man, exp = done.stdout.split()
    with mpmath.workdps(dps + 10):
        return mpmath.mpf((int(man, 16), int(exp)))

