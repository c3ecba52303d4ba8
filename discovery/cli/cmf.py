"""The ``cmf`` commands: ``list`` the known fields, ``walk`` one trajectory, ``unify`` stored
formulas with trajectories (the work lives in :mod:`discovery.cmf`)."""

from __future__ import annotations

import json
import time
from fractions import Fraction

from discovery.errors import InputError


def _fields(args) -> list:
    """The shipped fields named by --cmf (all when none is named) and those of --cmf-file."""
    from discovery.cmf import known_cmf, known_names, load_cmfs

    names = args.cmf or known_names()
    fields = [known_cmf(name) for name in names]
    for path in args.cmf_file or []:
        fields += load_cmfs(path)
    return fields


def cmf_list(args) -> int:
    """Print the shipped fields (and a user's file): name, dimension, rank, constant, source."""
    from discovery.cmf import known_cmf, known_names, load_cmfs

    fields = [known_cmf(name) for name in known_names()]
    if args.cmf_file:
        fields += load_cmfs(args.cmf_file)
    rows = [{"name": f.name, "dimension": f.dim, "rank": f.rank, "axes": list(f.axes), "constant": f.constant,
             "source": f.source} for f in fields]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        print(f"{r['name']:<16} dim {r['dimension']}  rank {r['rank']}  axes {','.join(r['axes']):<6} "
              f"{r['constant'] or '-':<8} {r['source']}")
    return 0


def _coordinates(text: str, what: str) -> tuple:
    parts = [p.strip() for p in text.split(",")]
    try:
        values = tuple(Fraction(p) for p in parts)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"{what} is comma-separated integers or fractions such as 1,1 or 1/2,0; "
                         f"got {text!r}") from None
    return values


def cmf_walk(args) -> int:
    """Print one trajectory: its step matrix, PCF, the map between them and the walk's value."""
    from discovery.cmf import known_cmf, load_cmfs, trajectory_pcf

    fields = {f.name: f for f in (load_cmfs(args.cmf_file) if args.cmf_file else [])}
    cmf = fields.get(args.name) or known_cmf(args.name)
    direction = _coordinates(args.direction, "--direction")
    if any(c.denominator != 1 for c in direction):
        raise InputError(f"--direction is integers, got {args.direction!r}")
    direction = tuple(int(c) for c in direction)
    start = _coordinates(args.start, "--start")
    walk = cmf.walk(direction, start, args.depth)
    try:
        value = str(walk.value(args.digits + 10))[:args.digits + 2]
    except ZeroDivisionError:
        # A singular first step (Apery's diagonal from the origin) loses the second column.
        value = None
    step = [[str(e) for e in row] for row in cmf.step_matrix(direction, start).tolist()]
    out = {"cmf": cmf.name, "direction": list(direction), "start": [str(s) for s in start], "depth": args.depth,
           "value": value, "step_matrix": step}
    if cmf.rank == 2:
        try:
            traj = trajectory_pcf(cmf, direction, start)
        except InputError as err:
            out["pcf"] = None
            out["why_no_pcf"] = str(err)
        else:
            out["pcf"] = {"a": list(traj.pcf.a), "b": list(traj.pcf.b)}
            m = traj.mobius
            out["walk_from_pcf"] = None if m is None else [m.alpha, m.beta, m.gamma, m.delta]
    if args.format == "json":
        print(json.dumps(out, indent=2))
        return 0
    shown = out["value"] or "undefined (the walk's last column has a zero denominator; start elsewhere)"
    print(f"{cmf.name} along ({args.direction}) from ({args.start}), depth {args.depth}: {shown}")
    print(f"  step matrix M(n) = {out['step_matrix']}")
    if out.get("pcf"):
        from discovery.pcf import PCF

        a, b = PCF(out["pcf"]["a"], out["pcf"]["b"]).sympy()
        print(f"  PCF a(n) = {a}, b(n) = {b}")
        if out["walk_from_pcf"]:
            alpha, beta, gamma, delta = out["walk_from_pcf"]
            print(f"  walk value = ({alpha} + {beta} L)/({gamma} + {delta} L), L the PCF's limit")
    elif "why_no_pcf" in out:
        print(f"  no PCF: {out['why_no_pcf']}")
    return 0


def _mobius_text(m, x: str) -> str:
    m00, m01, m10, m11 = m
    return f"({m00}*{x} + {m01})/({m10}*{x} + {m11})"


def cmf_unify(args) -> int:
    """Place the stored PCFs on trajectories of the fields and print which derive from which."""
    from discovery.cli.database import require_db
    from discovery.cmf.unify import TrajectoryIndex, place
    from discovery.pcf import PCF
    from discovery.store import FormulaStore

    require_db(args.db)
    with FormulaStore(args.db, readonly=True if args.no_store else None) as store:
        records = store.query(kind="pcf", constant=args.constant, identified=None if args.all else True,
                              limit=args.limit)
    fields = _fields(args)
    if not args.cmf:
        # By default the fields of the formulas' constants, when some are known for them.
        constants = {r["constant"] for r in records if r["constant"]}
        matching = [f for f in fields if f.constant in constants or f.name not in _shipped_names()]
        fields = matching or fields
    try:
        denominators = sorted({int(q) for q in args.denominators.split(",")})
    except ValueError:
        raise InputError(f"--denominators is comma-separated integers from 1 to 6, got {args.denominators!r}") from None
    began = time.perf_counter()
    index = TrajectoryIndex(fields, args.max_step, args.max_start, denominators, args.max_trajectories)
    rows = []
    for r in records:
        p = place(PCF(r["a"], r["b"]), index, gauge_degree=args.gauge_degree, gauge_shift=args.gauge_shift,
                  gauge_candidates=args.gauge_candidates)
        row = {"id": r["id"], "a": list(r["a"]), "b": list(r["b"]), "constant": r["constant"],
               "closed_form": r["closed_form"], "placed": p is not None}
        if p is not None:
            t = p.trajectory
            row.update(cmf=t.cmf, direction=list(t.direction), start=[str(s) for s in t.start], how=p.how,
                       trajectory_pcf={"a": list(t.pcf.a), "b": list(t.pcf.b)},
                       mobius=list(p.mobius), of_walk=p.of_walk, detail=p.detail)
        rows.append(row)
    if not args.no_store:
        with FormulaStore(args.db) as store:
            store.write_cmf_placements({r["id"]: r for r in rows if r["placed"]})
    placed = sum(r["placed"] for r in rows)
    summary = {"formulas": len(rows), "placed": placed, "share": placed / len(rows) if rows else 0.0,
               "fields": [f.name for f in fields], "trajectories": index.trajectories_,
               "truncated": index.truncated_, "seconds": round(time.perf_counter() - began, 2)}
    if args.format == "json":
        print(json.dumps({"summary": summary, "formulas": rows}, indent=2))
        return 0
    if not rows:
        print("no stored PCFs match")
        return 0
    for r in rows:
        a, b = PCF(r["a"], r["b"]).sympy()
        head = f"#{r['id']:<6} a={str(a):<24} b={str(b):<12} = {r['closed_form'] or '?':<20}"
        if not r["placed"]:
            print(f"{head} not placed")
            continue
        x = "W" if r["of_walk"] else "L"
        print(f"{head} {r['cmf']} ({','.join(map(str, r['direction']))}) from ({','.join(r['start'])}) "
              f"[{r['how']}]  value = {_mobius_text(r['mobius'], x)}")
    print(f"placed {placed} of {len(rows)} ({100 * summary['share']:.0f}%) on {index.trajectories_} trajectories "
          f"of {', '.join(summary['fields'])} in {summary['seconds']} s; W is a trajectory's walk value, "
          f"L its PCF's limit" + ("" if args.no_store else "; stored in the database")
          + (f"; box cut at --max-trajectories for {', '.join(index.truncated_)}"
                                  if index.truncated_ else ""))
    return 0


def _shipped_names() -> set[str]:
    from discovery.cmf import known_names

    return set(known_names())
