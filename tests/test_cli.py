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
    assert main(["campaign", "run", str(cfg), "--db", str(db), "--quiet"]) == 0
    rerun = capsys.readouterr().out
    assert rerun.startswith("campaign tiny: already complete") and " in 0.0 s" not in rerun
    assert "  families " in rerun and "new formulas " in rerun
    assert main(["query", "--db", str(db), "--constant", "e", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert records and {"id", "kind", "a", "b", "limit", "constant", "closed_form", "relation",
                        "digits_verified", "delta", "cluster"} <= set(records[0])
    import sympy
    for r in records:
        sympy.sympify(r["closed_form"])
    assert main(["query", "--db", str(db), "--identified", "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("id,kind,a,a_text,b,b_text,limit")
    assert main(["query", "--db", str(db), "--format", "json"]) == 0
    every = json.loads(capsys.readouterr().out)

    def digits(r):  # null in JSON for an exact rational (and for an unidentified PCF)
        return math.inf if r["digits_verified"] is None and r["closed_form"] else r["digits_verified"]

    wanted = {r["id"] for r in every
              if digits(r) is not None and digits(r) >= 30 and r["delta"] is not None and -1 <= r["delta"] <= 1}
    assert wanted and len(wanted) < sum(digits(r) is not None for r in every)  # the filter keeps some, drops some
    assert main(["query", "--db", str(db), "--min-digits", "30", "--delta", "-1", "1"]) == 0
    table = capsys.readouterr().out
    assert {int(m) for m in re.findall(r"^ *#(\d+) ", table, flags=re.M)} == wanted
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
    assert "identified  nothing" in capsys.readouterr().out
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


def _stored(db, items):
    """A database holding one campaign 'q' with these PCFs (a, b, float limit, delta, identification)."""
    from discovery.store import FormulaStore

    rows = [{"a": a, "b": b, "metrics": {"limit_value": limit, "delta": delta, "convergence_class": "exponential",
                                         "complex_eigen": 0, "depth": 2000}, "identification": ident}
            for a, b, limit, delta, ident in items]
    with FormulaStore(db) as store:
        cid = store.start_campaign("q", "pcf", {}, "h", total_units=1)
        store.write_unit(cid, 0, len(rows), len(rows), rows)


TWO = {"constant": None, "kind": "rational", "basis": ["1", "L"], "relation": [2, -1], "closed_form": "2",
       "digits_verified": math.inf, "depth": 3}
APERY = {"constant": "zeta3", "kind": "mobius", "basis": ["1", "zeta3", "L", "zeta3*L"], "relation": [6, 0, 0, -1],
         "closed_form": "6/zeta(3)", "digits_verified": 120.0, "depth": 40}


def test_query_table_has_a_header_readable_polynomials_and_every_limit(tmp_path, capsys):
    db = tmp_path / "q.db"
    _stored(db, [([34, 51, 27, 5], [-1, 0, 0, 0, 0, 0, 0], 4.991341, 0.08, APERY),
                 ([1, 3], [-1, 0], 1.9999999999999998, -0.5, TWO),
                 ([2, 1], [3, 0, 1], 0.1234567890123, 0.5, None)])
    assert main(["query", "--db", str(db)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["id", "a(n)", "b(n)", "limit"] and "closed form" in lines[0]
    apery = next(line for line in lines if "6/zeta(3)" in line)
    assert "34n^3 + 51n^2 + 27n + 5" in apery and "-n^6" in apery
    # Columns align whatever the degree: each column starts where its header does.
    start = lines[0].index("digits") + len("digits")
    assert {line[start - 1] for line in lines[1:]} == {"0", "t", "-"}  # 120, exact, -
    assert "0.123456789012" in next(line for line in lines if "2n + 1" in line)  # unidentified: its number
    two = next(line for line in lines if "n + 3" in line)
    assert " 2 " in two and "1.99999" not in two and "exact" in two


def test_query_sort_orders_rows_and_is_validated(tmp_path, capsys):
    db = tmp_path / "q.db"
    _stored(db, [([34, 51, 27, 5], [-1, 0, 0, 0, 0, 0, 0], 4.991341, 0.08, APERY),
                 ([1, 3], [-1, 0], 1.9999999999999998, -0.5, TWO),
                 ([2, 1], [3, 0, 1], 0.1234567890123, 0.5, None)])

    def ids(*extra):
        assert main(["query", "--db", str(db), "--format", "json", *extra]) == 0
        return [(r["a"], r["delta"]) for r in json.loads(capsys.readouterr().out)]

    deltas = [d for _, d in ids("--sort", "delta")]
    assert deltas == sorted(deltas, reverse=True)
    assert ids("--sort", "delta", "--limit", "1") == [([2, 1], 0.5)]  # the limit applies after sorting
    assert ids("--sort", "digits")[0][0] == [1, 3]  # exact first
    assert main(["query", "--db", str(db), "--sort", "size"]) == 2
    assert "invalid choice: 'size'" in capsys.readouterr().err


def test_query_json_and_csv_carry_readable_polynomials_and_exact_limits(tmp_path, capsys):
    import csv
    import io

    db = tmp_path / "q.db"
    _stored(db, [([1, 3], [-1, 0], 1.9999999999999998, -0.5, TWO),
                 ([34, 51, 27, 5], [-1, 0, 0, 0, 0, 0, 0], 4.991341, 0.08, APERY)])
    assert main(["query", "--db", str(db), "--format", "json", "--sort", "id"]) == 0
    two, apery = json.loads(capsys.readouterr().out)
    assert (two["a_text"], two["b_text"], two["limit"], two["closed_form"]) == ("n + 3", "-n", 2.0, "2")
    assert apery["a_text"] == "34n^3 + 51n^2 + 27n + 5" and apery["a"] == [34, 51, 27, 5]
    assert main(["query", "--db", str(db), "--format", "csv", "--sort", "id"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["limit"] == "2.0" and rows[0]["closed_form"] == "2" and rows[1]["b_text"] == "-n^6"


def test_polynomial_text():
    from discovery.cli.tables import polynomial_text

    assert polynomial_text([34, 51, 27, 5]) == "34n^3 + 51n^2 + 27n + 5"
    assert polynomial_text([-1, 0, 0]) == "-n^2"
    assert polynomial_text([2, -1]) == "2n - 1"
    assert polynomial_text([0, 0, 7]) == "7"
    assert polynomial_text([0]) == "0"
    assert polynomial_text([1, 0]) == "n"


def test_query_into_a_closed_pipe_ends_quietly(tmp_path):
    db = tmp_path / "q.db"
    # More output than a pipe holds (64 KiB), in every format, read by something that stops after 10 bytes.
    _stored(db, [([2, k], [1, 0, 0], 1.5, 0.1, None) for k in range(-600, 600)])
    for fmt in ("table", "json", "csv"):
        proc = subprocess.Popen([sys.executable, "-m", "discovery", "query", "--db", str(db), "--format", fmt],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        proc.stdout.read(10)
        proc.stdout.close()
        assert proc.wait(timeout=120) == 0
        assert proc.stderr.read() == b""


def test_constants_search_lists_name_value_definition_and_source(capsys):
    assert main(["constants", "--search", "apery"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1 constants matching 'apery'")
    assert "zeta3" in out and "1.20205690315959428539973816151" in out and "zeta(3)" in out and "built in" in out
    assert main(["constants", "--search", "ZETA", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"zeta2", "zeta3", "zeta5"} <= {r["name"] for r in rows}
    assert {"name", "aliases", "value", "definition", "source", "description"} <= set(rows[0])
    assert main(["constants", "--search", "no such thing"]) == 0
    assert "no constant matches" in capsys.readouterr().out


NOTHING = "1.2345678901234567890123456789012345678901234567890"


def test_identify_says_what_it_tried_and_what_to_try_next(capsys):
    assert main(["identify", NOTHING]) == 1
    out = capsys.readouterr().out
    for stage in ("rational", "Möbius in 32 constants", "quadratic irrational", "two constants at once",
                  "products of constants"):
        assert stage in out
    assert "escalation budget 5 s" in out
    assert "try next    --degree 2" in out and "--catalog FILE" in out
    assert main(["identify", NOTHING, "--budget", "0", "--constants", "pi", "e", "--format", "json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert record["identified"] is False and record["tried"][0]["stage"] == "rational"
    assert any(t.get("skipped") == "budget" for t in record["tried"])
    steps = " ".join(record["try_next"])
    assert "--budget 60" in steps and "drop --constants" in steps and "--degree 2" in steps


def test_identify_a_pasted_float_is_refused_with_the_fix_or_screened_with_its_risk(capsys):
    from discovery.identify.low_precision import FALSE_POSITIVES

    assert main(["identify", "1.6449340668482264"]) == 2
    err = capsys.readouterr().err
    assert "has 17 significant digits" in err and "Paste 20 or more digits" in err and "pi^2/6" in err
    assert "--digits 8" in err and "random 17-digit reals" in err
    assert main(["identify", "1.6449340668482264", "--digits", "8"]) == 0
    out = capsys.readouterr().out
    claims, trials = FALSE_POSITIVES[17, 8]
    assert "pi**2/6" in out and "candidate        True" in out and "identified       False" in out
    assert f"on {trials:,} random 17-digit reals this screen claimed a relation for {claims:,}" in out
    assert main(["identify", "1.6449340668482264", "--digits", "12"]) == 2
    assert "screened on 6 to 8 digits, got 12" in capsys.readouterr().err
    assert main(["identify", "1.23456789012", "--digits", "6"]) == 2
    assert "even a screen needs 13" in capsys.readouterr().err
    assert main(["identify", "1.2345678901234567", "--digits", "8"]) == 1
    out = capsys.readouterr().out
    assert "identified  nothing (screened on 8 of 17 digits" in out and "paste 20 or more digits" in out


def test_the_screen_false_positive_table_covers_every_screen_and_random_reals_rarely_pass():
    import random

    from discovery.identify.escalation import MIN_KNOWN
    from discovery.identify.low_precision import FALSE_POSITIVES, MIN_SCREEN_KNOWN, screen, screen_range

    wanted = {(k, d) for k in range(MIN_SCREEN_KNOWN, MIN_KNOWN) for d in range(screen_range(k)[0],
                                                                                   screen_range(k)[1] + 1)}
    assert set(FALSE_POSITIVES) == wanted
    # A fresh sample agrees with the table: no more than a few claims in 300 random 17-digit reals.
    rng = random.Random(7)
    texts = [str(rng.randrange(10**16, 10**17)) for _ in range(300)]
    claims = sum(screen(t[0] + "." + t[1:], 8) is not None for t in texts)
    table_claims, trials = FALSE_POSITIVES[17, 8]
    assert claims <= 3 + 300 * table_claims / trials * 3


def test_an_evolve_summary_says_none_identified_and_shows_the_best_by_each_objective():
    from discovery.campaign.result import CampaignResult, summary_lines
    from discovery.cli.campaigns import best_candidate_lines

    result = CampaignResult("evo", 1, 48, 36, 36, 1, {}, 24.0, True)
    assert "  identified 0: no formula of this campaign was confirmed" in summary_lines(result)
    records = [{"a": [1, 2, 3, 4], "b": [k, 0, 0, 0, 0, 0, 0], "delta": d, "naive_delta": nd, "limit": lim,
                "closed_form": None} for k, d, nd, lim in ((1, -0.5, -0.8, 1.1), (2, -0.1, -0.2, 0.9),
                                                            (3, -0.9, -0.95, 1.2020569031595942 * 1))]
    lines = best_candidate_lines(["factorial_reduction", "target", "delta", "novelty"], records,
                                 {"constants": ["zeta3"], "mobius_bound": 3})
    text = "\n".join(lines)
    assert "factorial reduction:" in text and "delta:" in text
    assert lines[0] == "  best candidates by the campaign's objectives (not shown: novelty):"
    delta_rows = lines[lines.index("    delta:") + 1:]
    assert delta_rows[0].split()[0] == "-0.1000" and "b(n) = 2n^6" in delta_rows[0]
    # zeta(3) itself is at the floor distance from the Möbius table of zeta(3): first by target.
    target = lines[lines.index("    log10 distance to a Möbius transform of the constants:") + 1]
    assert "b(n) = 3n^6" in target


def test_a_stored_pcf_without_metrics_gets_the_float_limit_of_its_fraction():
    from discovery.cli.tables import fill_limits, readable_record

    records = [{"kind": "pcf", "a": [2, 1], "b": [1, 0, 0], "limit": None, "closed_form": "4/pi",
                "digits_verified": 90.0},
               {"kind": "pcf", "a": [1, 0], "b": [1], "limit": 0.5, "closed_form": None, "digits_verified": None}]
    fill_limits(records)
    assert abs(records[0]["limit"] - 4 / math.pi) < 1e-12 and records[1]["limit"] == 0.5
    assert readable_record(records[0])["a_text"] == "2n + 1"
