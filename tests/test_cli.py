import json
import math
import re
import subprocess
import sys

from discovery.cli import main

FOUR_OVER_PI = "1.27323954473516268615107010698011489627567716592365"


def test_pcf_eval_json(capsys):
    assert main(["pcf", "eval", "2n+1", "n^2", "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["limit"].startswith(FOUR_OVER_PI)
    assert record["status"] == "converged" and record["digits"] > 700


def test_pcf_eval_table_with_coefficient_lists_and_negative_polynomial(capsys):
    assert main(["pcf", "eval", "3n+1", "-n*(2n-3)", "--depth", "500"]) == 0
    out = capsys.readouterr().out
    assert FOUR_OVER_PI[:40] in out and "converged" in out
    assert main(["pcf", "eval", "[2,1]", "[1,-3,0]"]) == 0
    out = capsys.readouterr().out
    assert "3/13" in out and "terminated" in out


def test_pcf_eval_bad_input(capsys):
    assert main(["pcf", "eval", "2n+x", "n"]) == 2
    assert "'x'" in capsys.readouterr().err
    assert main(["pcf", "eval", "2n+1", "n^2", "--depth", "0"]) == 2
    assert "--depth: 0 is out of range" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "discovery", "pcf", "eval", "2", "1", "--format", "json"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(out)["limit"].startswith("2.414213562373095048801688")


def test_pcf_metrics_json(capsys):
    assert main(["pcf", "metrics", "2n+1", "n^2", "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert abs(record["delta"] - (-0.203)) < 0.005
    assert record["convergence_class"] == "exponential"


def test_survey_then_cluster(tmp_path, capsys):
    table = tmp_path / "t.npz"
    assert main(["pcf", "survey", "--degree-a", "1", "--degree-b", "1", "--bound", "3",
                 "--anchors", "2", "--out", str(table), "--quiet"]) == 0
    assert "written to" in capsys.readouterr().out
    plots = tmp_path / "plots"
    assert main(["pcf", "cluster", str(table), "--plots", str(plots), "--format", "json"]) == 0
    reports = json.loads(capsys.readouterr().out)
    assert reports and {"label", "size", "centroid", "constants"} <= set(reports[0])
    assert any("e" in r["constants"] for r in reports)
    assert sorted(p.name for p in plots.iterdir()) == [
        "clusters_delta_eta_prime.png", "clusters_delta_gamma_prime.png"
    ]
    assert main(["pcf", "cluster", str(table), "--top", "3"]) == 0
    assert "clusters over" in capsys.readouterr().out


def test_cluster_rejects_a_file_that_is_not_a_table(tmp_path, capsys):
    import numpy as np

    bad = tmp_path / "bad.npz"
    np.savez(bad, x=np.zeros(2))
    assert main(["pcf", "cluster", str(bad)]) == 2
    assert "missing columns" in capsys.readouterr().err


def test_discovery_run_quickstart_then_query(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "discovery", "run", "--quiet"],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
    )
    assert out.returncode == 0, out.stderr
    for heading in ("\npi (", "\ne (", "\nln2 ("):
        assert heading in out.stdout
    assert "4/pi" in out.stdout and "1/log(2)" in out.stdout
    db = tmp_path / "discoveries.db"
    assert db.exists() and (tmp_path / "discoveries_runs" / "quickstart").is_dir()
    assert main(["query", "--db", str(db), "--constant", "ln2", "--format", "json"]) == 0


def test_campaign_status_and_query_formats(tmp_path, capsys):
    import math

    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[campaign]\nname='tiny'\nkind='pcf'\n[space]\ndegree_a=1\ndegree_b=1\nbound=2\n"
        "[search]\nunit_size=100\n[identify]\nconstants=['e','phi','sqrt2']\ndigits=20\n[execution]\nworkers=1\n"
    )
    db = tmp_path / "t.db"
    assert main(["campaign", "run", str(cfg), "--db", str(db), "--quiet"]) == 0
    assert "campaign tiny: complete" in capsys.readouterr().out
    assert main(["campaign", "status", "--db", str(db)]) == 0
    assert "tiny (pcf, finished)" in capsys.readouterr().out
    assert main(["query", "--db", str(db), "--constant", "e", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and {"id", "kind", "a", "b", "limit", "constant", "closed_form", "relation",
                        "digits_verified", "delta", "cluster"} <= set(records[0])
    import sympy
    for r in records:
        sympy.sympify(r["closed_form"])
    assert main(["query", "--db", str(db), "--identified", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("id,kind,a,b")
    assert main(["query", "--db", str(db), "--format", "json"]) == 0
    every = json.loads(capsys.readouterr().out)

    def digits(r):  # null in JSON for an exact rational (and for an unidentified PCF)
        return math.inf if r["digits_verified"] is None and r["closed_form"] else r["digits_verified"]

    wanted = {r["id"] for r in every
              if digits(r) is not None and digits(r) >= 30 and r["delta"] is not None and -1 <= r["delta"] <= 1}
    assert wanted and len(wanted) < sum(digits(r) is not None for r in every)  # the filter keeps some, drops some
    assert main(["query", "--db", str(db), "--min-digits", "30", "--delta", "-1", "1"]) == 0
    table = capsys.readouterr().out
    assert {int(m) for m in re.findall(r"^#(\d+) ", table, flags=re.M)} == wanted
    assert main(["query", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no database" in capsys.readouterr().err


def test_programs_baselines_and_evolve(tmp_path, capsys):
    assert main(["programs", "baselines", "--target", "exp2", "--interval", "0", "1", "--max-ops", "10"]) == 0
    out = capsys.readouterr().out
    assert "minimax-rational (2, 3)" in out and "7.520e-09" in out
    assert "max error (scanned)" in out and "proven bound" in out and "certified" not in out
    # minimax-rational (2, 3): scanned 7.520e-09, proven within 1 %
    assert re.search(r"minimax-rational \(2, 3\)\s+7\.520e-09\s+7\.[56]\d\de-09", out)
    db = tmp_path / "p.db"
    assert main(["programs", "evolve", "--target", "exp", "--interval", "0", "0.5", "--max-ops", "4",
                 "--minutes", "0.03", "--population", "20", "--db", str(db), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "best classical" in out and "float32 check" in out and "stored" in out and "programs export" in out
    assert "scanned" in out and "proven bound" in out
    assert main(["query", "--db", str(db), "--kind", "program", "--target", "exp", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and all(r["kind"] == "program" and r["ops"] <= 4 for r in records)
    assert all(r["max_error"] <= r["bound"] and r["infinities"] is False for r in records)
    assert main(["query", "--db", str(db), "--kind", "program"]) == 0
    assert "max error (scanned)" in capsys.readouterr().out
    assert main(["programs", "baselines", "--target", "sin", "--interval", "-1", "1", "--error", "relative"]) == 2
    assert "zero" in capsys.readouterr().err


def test_identify_cli(capsys):
    assert main(["identify", "2n+1", "n^2", "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["closed_form"] == "4/pi" and record["constant"] == "pi" and record["digits_verified"] >= 100
    assert main(["identify", "(exp(pi) - 3)/(exp(pi) + 1)"]) == 0
    assert "e_pi" in capsys.readouterr().out
    assert main(["identify", "1.2345678901234567890123456789012345678901234567890"]) == 1
    assert "identified  False" in capsys.readouterr().out
    assert main(["identify", "x + 1"]) == 2
    assert "unknown name 'x'" in capsys.readouterr().err
    assert main(["identify", "3.14159265358979323846264338327950288", "--constants", "pie"]) == 2
    assert "unknown constant 'pie'" in capsys.readouterr().err


def test_query_shows_scanned_error_bound_and_the_infinities_marker(tmp_path, capsys):
    from discovery.store import FormulaStore

    db = tmp_path / "p.db"
    genome = {"consts": [2.0, 3.0], "instructions": [["div", [2, 0]], ["div", [1, 3]]], "output": 4}
    with FormulaStore(db) as store:
        store.write_programs(None, "exp", (0.0, 1.0), [
            {"genome": genome, "ops": 2, "max_error": 1.0, "bound": math.inf, "infinities": True,
             "expression": "2*x/3"},
            {"genome": {**genome, "consts": [2.0, 5.0]}, "ops": 2, "max_error": 0.5, "bound": 0.51,
             "infinities": False, "expression": "2*x/5"},
        ])
    assert main(["query", "--db", str(db), "--kind", "program"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "max error (scanned) 1, proven bound none  [IEEE inf]" in lines[0]
    assert "max error (scanned) 0.5, proven bound 0.51  2*x/5" in lines[1]
    assert main(["query", "--db", str(db), "--kind", "program", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [(r["bound"], r["infinities"]) for r in records] == [(None, True), (0.51, False)]


def test_version_constants_and_a_missing_command(capsys):
    from discovery import __version__

    assert main(["--version"]) == 0 and capsys.readouterr().out.strip() == f"discovery {__version__}"
    assert main(["constants", "--digits", "10"]) == 0
    out = capsys.readouterr().out
    # At least the 103 shipped ones (a worker's earlier tests may have loaded user catalogs).
    assert int(out.split()[0]) >= 103 and "gauss" in out and "3.141592654" in out
    assert main([]) == 2
    assert capsys.readouterr().err.strip() == "discovery: error: a COMMAND is required (see 'discovery --help')"


def test_a_reader_that_goes_away_is_not_an_error():
    # More output than a pipe holds, read by something that stops after 10 bytes (like head).
    proc = subprocess.Popen([sys.executable, "-m", "discovery", "constants", "--format", "json", "--digits", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    assert proc.wait(timeout=120) == 0
    assert b"error" not in proc.stderr.read()
