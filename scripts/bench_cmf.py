"""Trajectory walks of depth 1,000 per second: this engine (blocks of steps evaluated in a numba
kernel, a product tree of gmpy2 integers; and a plain left-to-right product of flint matrices for
comparison) against ramanujantools when it is installed, on the same trajectories in the same
run, with the limits checked to agree.

Three ratios: ``ratio`` with the trajectory compiled once (its step polynomials and blocks kept,
as ramanujantools keeps its trajectory matrix in an lru_cache); ``ratio+m`` also reading the
walk's ``matrix``, the product with its scalar factor multiplied in (a walk holds it apart, as
``scale * core / denominator``, and its value needs only ``core``: see discovery.cmf.steps);
``ratio+c`` compiling the trajectory again for every walk.  ``top/s`` is the rate of the last
multiplication alone that any exact product of the steps ends with -- the two half-walks'
matrices multiplied by flint -- and ``cap`` its ratio to ramanujantools: no engine that forms the
walk's exact matrix can be faster than that multiplication.  The timings are interleaved (one of
each per round, best of the rounds), so that a busy spell of a shared machine falls on all of
them; ramanujantools' own times vary by 3x from call to call (sympy's caches), which the best of
several rounds absorbs.

    PYTHONPATH=. python scripts/bench_cmf.py [--depth 1000] [--repeat 15]
"""

import argparse
import time

import mpmath
import sympy

from discovery.cmf import known_cmf
from discovery.cmf.steps import Walk

CASES = [("zeta3", (1, 1), (1, 1)), ("e", (1, 1), (1, 1)), ("pi", (1, 1), (1, 1)), ("ln2", (2, 1), (1, 2))]


def _sequential(steps, depth: int) -> Walk:
    mat, den = steps.at(0)
    for k in range(1, depth):
        m, d = steps.at(k)
        mat, den = mat * m, den * d
    return Walk.from_matrix(mat, den)


def _rates(fns, repeat: int) -> list[tuple[float, object]]:
    """Best rate (1 / seconds) and last result of each function, timed in interleaved rounds."""
    best, out = [float("inf")] * len(fns), [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            out[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return [(1 / b, o) for b, o in zip(best, out)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if not 10 <= args.depth <= 100_000 or not 1 <= args.repeat <= 100:
        parser.error("--depth is 10 to 100000 and --repeat 1 to 100")
    try:
        from ramanujantools.cmf import known_cmfs
    except ImportError:
        known_cmfs = None
        print("ramanujantools is not installed: timing this engine only")
    print(f"{'trajectory':28} {'walk/s':>8} {'+matrix/s':>9} {'+compile/s':>10} {'sequential/s':>12} {'top/s':>8} "
          f"{'rt/s':>8} {'ratio':>7} {'ratio+m':>7} {'ratio+c':>7} {'cap':>7}  agree")
    x, y = sympy.symbols("x y")
    for name, direction, start in CASES:
        cmf = known_cmf(name)
        steps = cmf.compiled(direction, start)
        fns = [lambda s=steps: s.walk(args.depth),
               lambda s=steps: s.walk(args.depth).matrix,
               # A fresh compile each time: the blocked polynomials are built again too.
               lambda c=cmf, t=direction, s=start: c.compiled(t, s, cached=False).walk(args.depth)]
        if known_cmfs is not None:
            theirs = getattr(known_cmfs, name if name != "ln2" else "cmf1")()
            if name == "ln2":
                c = sympy.symbols("c:4")
                theirs = theirs.subs({c[0]: 0, c[1]: 1, c[2]: 0, c[3]: 1})
            traj, pos = {x: direction[0], y: direction[1]}, {x: start[0], y: start[1]}
            fns.append(lambda f=theirs, t=traj, p=pos: f.limit(t, args.depth, p))
        rates = _rates(fns, args.repeat)
        (ours, walk), (full, _), (whole, _) = rates[:3]
        seq, walk2 = _rates([lambda s=steps: _sequential(s, args.depth)], min(args.repeat, 3))[0]
        assert walk2.value(60) == walk.value(60)
        assert (walk2.matrix, walk2.denominator) == (walk.matrix, walk.denominator)
        half = args.depth // 2
        first, second = steps.walk(half), steps.walk(args.depth - half, first=half)
        assert first.matrix * second.matrix == walk.matrix
        top, _ = _rates([lambda a=first.matrix, b=second.matrix: a * b], 10 * args.repeat)[0]
        label = f"{name} {direction} from {start}"
        if known_cmfs is None:
            print(f"{label:28} {ours:8.1f} {full:9.1f} {whole:10.1f} {seq:12.1f} {top:8.1f}")
            continue
        rt, limit = rates[3]
        rational = limit.as_rational()
        with mpmath.workdps(60):
            agree = abs(mpmath.mpf(rational.p) / rational.q - walk.value(60)) < mpmath.mpf(10) ** -50
        print(f"{label:28} {ours:8.1f} {full:9.1f} {whole:10.1f} {seq:12.1f} {top:8.1f} {rt:8.1f} {ours / rt:6.1f}x "
              f"{full / rt:6.1f}x {whole / rt:6.1f}x {top / rt:6.1f}x  {agree}")


if __name__ == "__main__":
    main()
