import json
import subprocess
import sys

import pytest

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
    with pytest.raises(SystemExit):
        main(["pcf", "eval", "2n+1", "n^2", "--depth", "0"])
    assert "positive integer" in capsys.readouterr().err


def test_module_entry_point():
    out = subprocess.run(
        [sys.executable, "-m", "discovery", "pcf", "eval", "2", "1", "--format", "json"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(out)["limit"].startswith("2.414213562373095048801688")
