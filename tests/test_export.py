"""Exported programs (discovery.programs.export): each language's code, run or compiled, equals
the float64 interpreter on random points and performs exactly the program's operation count."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from discovery.programs.export import LANGUAGES, Provenance, export, pole_limits, shipped
from discovery.programs.graph import Program, horner, random_program, rational
from discovery.programs.kernels import evaluate
from discovery.programs.targets import make_target
from discovery.programs.verify import infinity_points

EXP2 = make_target("exp2", (0.0, 1.0))
# A continued fraction finite at x = 0 only through c/0 = inf, then d/inf = 0:
# x + 0.5 + 2/(3/x + 1.5) -> 0.5 as x -> 0.
POLE = Program((3.0, 1.5, 2.0, 0.5), (("div", (1, 0, 0)), ("add", (5, 2, 0)), ("div", (3, 6, 0)),
                                      ("add", (7, 0, 0)), ("add", (8, 4, 0))))


def _programs() -> list[Program]:
    rng = np.random.default_rng(5)
    progs = [horner([0.0013, 0.0096, 0.0555, 0.2402, 0.6931, 1.0]), rational([0.5, 2.0, 3.0], [1.0, -0.7, 4.0]), POLE,
             # Shared values: t0 = 361.5/x feeds two later operations.
             Program((361.5, 2.0, -0.25), (("div", (1, 0, 0)), ("add", (4, 2, 0)), ("div", (3, 5, 0)),
                                           ("mul", (6, 4, 0)), ("add", (7, 6, 0)))),
             # A constant subexpression (c0 * c1) that export folds: 2 operations, not 3.
             Program((1.5, -2.0), (("mul", (1, 2, 0)), ("add", (0, 3, 0)), ("mul", (4, 0, 0))))]
    while len(progs) < 11:
        prog = random_program(rng, 6, 3, ("add", "sub", "mul", "div", "sqrt", "fma", "mul2", "half"))
        try:
            if shipped(prog).cost >= 3:
                progs.append(prog)
        except ValueError:  # a constant part that is not finite (sqrt of a negative constant)
            pass
    return progs


PROGRAMS = _programs()
POINTS = np.concatenate([[0.0, 1.0, 0.5], np.random.default_rng(1).uniform(0.0, 1.0, 64)])


def _same(got, want, fused: bool = False) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    both_nan = np.isnan(got) & np.isnan(want)
    if fused:  # one rounding in place of two: equal up to a few ulps of the operands
        return bool(np.all(both_nan | np.isclose(got, want, rtol=1e-9, atol=1e-12) | (got == want)))
    return bool(np.all(both_nan | (got == want)))


def _reference(prog: Program, X, poles) -> np.ndarray:
    want = evaluate(shipped(prog), X)
    for x, v in poles:
        want[X == x] = v
    return want


def _operations(source: str, language: str) -> int:
    """Operations the exported code performs: each assignment of a temporary is one operation,
    and its right side holds exactly one (a test of the exporter's one-operation-per-line rule)."""
    if language == "latex":
        rhs = re.findall(r"^t_\{\d+\} &= (.*?)(?: \\\\)?$", source, re.M)
    else:
        rhs = re.findall(r"^\s*(?:const \w+ )?t\d+ = (.*?);?$", source, re.M)
    for text in rhs:
        bare = re.sub(r"sympy\.Float\([^)]*\), 17\)|sympy\.Float\([^()]*, 17\)", "K", text)
        bare = re.sub(r"\(-[0-9.e+-]+f?\)", "K", bare)
        bare = re.sub(r"\\t?frac|\\sqrt", "#", bare)
        count = len(re.findall(r"fmaf?\(|_fma\(|sqrtf?\(|sympy\.sqrt\(|\\cdot|\s[-+*/]\s|#", bare))
        if "fma(" in bare or "\\cdot" in bare and "+" in bare:
            count = 1  # a fused multiply-add is one operation: fma(a, b, c), a \cdot b + c
        assert count == 1, f"{text!r} does not hold exactly one operation"
    return len(rhs)


@pytest.mark.parametrize("language", LANGUAGES)
def test_exports_perform_exactly_the_programs_operations(language):
    for prog in PROGRAMS:
        source = export(prog, language)
        assert _operations(source, language) == shipped(prog).cost
        assert f"operations: {shipped(prog).cost}" in source


def test_shared_values_stay_shared_and_constants_fold():
    shared = PROGRAMS[3]
    assert shared.cost == 5
    source = export(shared, "python")
    assert source.count("361.5") == 1  # t0 = 361.5 / x once, used twice
    folded = PROGRAMS[4]
    assert folded.cost == 2 and shipped(folded).cost == 2
    assert len(re.findall(r"^    t\d+ =", export(folded, "python"), re.M)) == 2


def _run_python(source: str, name: str = "f"):
    namespace: dict = {}
    exec(compile(source, "<export>", "exec"), namespace)  # noqa: S102 - the code under test
    return namespace[name]


@pytest.mark.parametrize("language", ("python", "numba"))
def test_scalar_exports_equal_the_interpreter(language):
    for prog in PROGRAMS:
        poles = pole_limits(prog, infinity_points(prog, EXP2))
        f = _run_python(export(prog, language, poles=poles))
        got = []
        for x in POINTS:
            try:
                got.append(f(float(x)))
            except (ZeroDivisionError, ValueError):  # Python's 1/0 and sqrt(-1)
                got.append(np.nan)
        want = _reference(prog, POINTS, poles)
        ok = np.isfinite(got)
        # Where Python raises, IEEE gives inf or nan: compare only the finite results.
        assert _same(np.asarray(got)[ok], want[ok]), (language, prog.formula())
        assert np.all(np.isfinite(want[ok]))


def test_numpy_export_is_vectorised_and_equals_the_interpreter():
    for prog in PROGRAMS:
        poles = pole_limits(prog, infinity_points(prog, EXP2))
        f = _run_python(export(prog, "numpy", poles=poles))
        with np.errstate(all="ignore"):
            got = f(POINTS)
        assert got.shape == POINTS.shape
        assert _same(got, _reference(prog, POINTS, poles)), prog.formula()


def test_sympy_export_equals_the_interpreter():
    import sympy

    for prog in PROGRAMS[:5]:
        poles = pole_limits(prog, infinity_points(prog, EXP2))
        expr = _run_python(export(prog, "sympy", poles=poles))
        x = sympy.Symbol("x")
        want = _reference(prog, POINTS[:12], poles)
        for xv, w in zip(POINTS[:12], want):
            v = complex(expr.subs(x, sympy.Float(float(xv), 30)).evalf(30)) if (xv != 0 or poles) else None
            if v is None or not np.isfinite(w):
                continue
            assert abs(v.real - w) <= 1e-12 * max(1.0, abs(w)), (prog.formula(), xv)


def test_pole_programs_get_a_limit_branch_marked_in_every_language():
    poles = pole_limits(POLE, infinity_points(POLE, EXP2))
    assert poles == [(0.0, 0.5)]
    for language in LANGUAGES:
        source = export(POLE, language, poles=poles)
        assert "FINITE ONLY THROUGH IEEE INFINITIES at x = 0.0" in source
    assert _run_python(export(POLE, "python", poles=poles))(0.0) == 0.5
    assert "if (x == 0.0) return 0.5;" in export(POLE, "c", poles=poles)


def test_the_header_states_target_interval_bound_and_operations():
    source = export(PROGRAMS[0], "c", provenance=Provenance("exp2", (0.0, 1.0), True, 2.5e-7, 2.4e-7))
    assert "exp2(x) on [0.0, 1.0]" in source
    assert "proven bound 2.500e-07" in source and "scanned maximum 2.400e-07" in source
    assert "operations: 10" in source


def test_bad_requests_are_refused_by_name():
    with pytest.raises(ValueError, match="'fortran'"):
        export(PROGRAMS[0], "fortran")
    for name in ("1f", "def", "é", "double", "x", "sqrt"):
        with pytest.raises(ValueError, match=repr(name)):
            export(PROGRAMS[0], "c", name=name)
    with pytest.raises(ValueError, match="'long double'"):
        export(PROGRAMS[0], "c", ctype="long double")
    with pytest.raises(ValueError, match="not finite"):
        export(Program((-1.0,), (("sqrt", (1, 0, 0)), ("add", (2, 0, 0)))), "c")


@pytest.mark.parametrize("ctype", ("double", "float"))
def test_c_export_compiles_and_equals_the_interpreter(tmp_path, ctype):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler (cc) on this machine: the C export was not compiled")
    for n, prog in enumerate(PROGRAMS):
        poles = pole_limits(prog, infinity_points(prog, EXP2))
        points = ", ".join(float(x).hex() for x in POINTS)
        main = (f"\n#include <stdio.h>\nstatic const double X[] = {{{points}}};\n"
                f"int main(void) {{ for (unsigned i = 0; i < {POINTS.size}; i++) "
                f"printf(\"%a\\n\", (double)f(({ctype})X[i])); return 0; }}\n")
        src = tmp_path / f"p{n}.c"
        src.write_text(export(prog, "c", poles=poles, ctype=ctype) + main)
        exe = tmp_path / f"p{n}"
        subprocess.run([cc, "-O2", "-ffp-contract=off", str(src), "-o", str(exe), "-lm"], check=True)
        out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
        got = np.array([float.fromhex(v) if "nan" not in v and "inf" not in v else float(v) for v in out])
        fused = any(op == "fma" for op, _ in shipped(prog).instructions)
        if ctype == "double":
            assert _same(got, _reference(prog, POINTS, poles), fused), prog.formula()
        else:
            from discovery.programs.float32 import run32

            want = run32(shipped(prog), POINTS.astype(np.float32))
            for x, v in poles:
                want[POINTS.astype(np.float32) == np.float32(x)] = np.float32(v)
            assert _same(got, want.astype(np.float64)), prog.formula()




def _stored(tmp_path) -> tuple[str, list[int]]:
    from discovery.programs.verify import program_record
    from discovery.store import FormulaStore

    db = str(tmp_path / "p.db")
    rows = [program_record(PROGRAMS[0], EXP2, PROGRAMS[0].cost), program_record(POLE, EXP2, POLE.cost)]
    with FormulaStore(db) as store:
        ids = store.write_programs(None, "exp2", (0.0, 1.0), rows)
    return db, ids


def test_cli_export_by_id_and_by_target(tmp_path, capsys):
    from discovery.cli import main

    db, (horner_id, pole_id) = _stored(tmp_path)
    assert main(["programs", "export", str(horner_id), "--db", db, "--lang", "python"]) == 0
    out = capsys.readouterr().out
    assert "exp2(x) on [0.0, 1.0]" in out and "proven bound" in out and "operations: 10" in out
    f = _run_python(out)
    assert f(0.25) == evaluate(shipped(PROGRAMS[0]), np.array([0.25]))[0]
    # The best of at most 10 operations is the Horner polynomial (the pole program is refused).
    path = tmp_path / "f.c"
    assert main(["programs", "export", "--db", db, "--target", "exp2", "--ops", "10", "--out", str(path)]) == 0
    assert "double f(double x)" in path.read_text() and "wrote program" in capsys.readouterr().out


def test_cli_export_refuses_infinities_unless_allowed(tmp_path, capsys):
    from discovery.cli import main

    db, (_, pole_id) = _stored(tmp_path)
    assert main(["programs", "export", str(pole_id), "--db", db]) != 0
    err = capsys.readouterr().err
    assert "finite only through IEEE infinities" in err and "x = 0.0" in err and "--allow-inf" in err
    assert main(["programs", "export", str(pole_id), "--db", db, "--allow-inf", "--lang", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "FINITE ONLY THROUGH IEEE INFINITIES" in out
    assert _run_python(out)(np.array([0.0, 0.5]))[0] == 0.5
    assert main(["programs", "export", "99", "--db", db]) != 0
    assert "no program with id 99" in capsys.readouterr().err
    assert main(["programs", "export", "--db", db, "--target", "exp2"]) != 0
    assert "--ops" in capsys.readouterr().err
