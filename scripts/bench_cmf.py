"""Trajectory walks of depth 1,000 per second: this engine (flint integer polynomials, binary
splitting; and a plain left-to-right product for comparison) against ramanujantools when it is
installed, on the same trajectories in the same run, with the limits checked to agree.  The ratio
is taken end to end: each of our walks includes compiling the trajectory's step matrix from the
field (flint, milliseconds), as ramanujantools' ``limit`` does its own.

    PYTHONPATH=. python scripts/bench_cmf.py [--depth 1000] [--repeat 7]
"""

import argparse
import time

import mpmath
import sympy

from discovery.cmf import known_cmf
from discovery.cmf.field import Walk

CASES = [("zeta3", (1, 1), (1, 1)), ("e", (1, 1), (1, 1)), ("pi", (1, 1), (1, 1)), ("ln2", (2, 1), (1, 2))]


def _sequential(steps, depth: int) -> Walk:
    mat, den = steps.at(0)
    for k in range(1, depth):
        m, d = steps.at(k)
        mat, den = mat * m, den * d
    return Walk(mat, den)


def _rate(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return 1 / best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    if not 10 <= args.depth <= 100_000 or not 1 <= args.repeat <= 20:
        parser.error("--depth is 10 to 100000 and --repeat 1 to 20")
    try:
        from ramanujantools.cmf import known_cmfs
    except ImportError:
        known_cmfs = None
        print("ramanujantools is not installed: timing this engine only")
    print(f"{'trajectory':28} {'binary/s':>9} {'+compile/s':>10} {'sequential/s':>12} {'rt/s':>8} {'ratio':>7}  agree")
    for name, direction, start in CASES:
        cmf = known_cmf(name)
        steps = cmf.compiled(direction, start)
        ours, walk = _rate(lambda s=steps: s.walk(args.depth), args.repeat)
        # A fresh compile each time: the blocked polynomials are built again too.
        whole, _ = _rate(lambda c=cmf, t=direction, s=start: c.compiled(t, s).walk(args.depth), args.repeat)
        seq, walk2 = _rate(lambda s=steps: _sequential(s, args.depth), args.repeat)
        assert walk2.value(60) == walk.value(60)
        label = f"{name} {direction} from {start}"
        if known_cmfs is None:
            print(f"{label:28} {ours:9.1f} {whole:10.1f} {seq:12.1f}")
            continue
        theirs = getattr(known_cmfs, name if name != "ln2" else "cmf1")()
        if name == "ln2":
            c = sympy.symbols("c:4")
            theirs = theirs.subs({c[0]: 0, c[1]: 1, c[2]: 0, c[3]: 1})
        x, y = sympy.symbols("x y")
        traj, pos = {x: direction[0], y: direction[1]}, {x: start[0], y: start[1]}
        rt, limit = _rate(lambda f=theirs, t=traj, p=pos: f.limit(t, args.depth, p), args.repeat)
        rational = limit.as_rational()
        with mpmath.workdps(60):
            agree = abs(mpmath.mpf(rational.p) / rational.q - walk.value(60)) < mpmath.mpf(10) ** -50
        print(f"{label:28} {ours:9.1f} {whole:10.1f} {seq:12.1f} {rt:8.1f} {whole / rt:6.1f}x  {agree}")


if __name__ == "__main__":
    main()
