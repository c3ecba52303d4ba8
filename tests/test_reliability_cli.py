"""Issue 25 ("Reliability, round two"): the command line ends promptly, in one line, on hostile sizes.

Commands that could hang or exhaust memory run as subprocesses under a time limit and an address
space limit, so a regression fails here instead of hanging CI.
"""

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 3 * 2**30


def _limit_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_cli(*args, timeout=60):
    """``python -m discovery ARGS`` from this checkout, killed after ``timeout`` seconds or at 3 GB."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "discovery", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, preexec_fn=_limit_memory, cwd=ROOT)


def refusal(result) -> str:
    """The one stderr line of a refused command."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("discovery: error: "), result.stderr[-2000:]
    return lines[0]


# --- defect 1: a command that raises a Python warning must still exit -------------------------------

@pytest.mark.parametrize("args", [
    ("pcf", "metrics", "n^20+1", "n^2"),
    ("identify", "10^1000*(2n+1)", "10^2000*n^2"),
    ("programs", "evolve", "--target", "exp2", "--interval", "-1e308", "1e308", "--minutes", "0.005",
     "--population", "4", "--max-ops", "2", "--quiet"),
])
def test_a_warning_is_shown_once_and_the_command_exits(args):
    result = run_cli(*args)
    assert result.returncode in (0, 1, 2), result.stderr[-2000:]
    assert "MemoryError" not in result.stderr
    warning_lines = [line for line in result.stderr.splitlines() if "Warning:" in line]
    assert len(warning_lines) == len(set(warning_lines))
    if result.returncode == 2:
        assert result.stderr.strip().splitlines()[-1].startswith("discovery: error: ")


WARNING_HANDLER = """
import sys, warnings
from discovery import cli

def handler(args):
    for _ in range(3):
        warnings.warn("the same note", RuntimeWarning)
    warnings.warn("another note", UserWarning)
    return 0

cli.pcf.pcf_eval = handler
sys.exit(cli.main(["pcf", "eval", "n", "1"]))
"""


def test_every_kind_of_warning_is_replayed_once_after_the_command():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", WARNING_HANDLER], capture_output=True, text=True, env=env,
                            timeout=60, preexec_fn=_limit_memory)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.count("RuntimeWarning: the same note") == 1
    assert result.stderr.count("UserWarning: another note") == 1


# --- defect 3: special functions of hostile size never abort or run for minutes ---------------------

@pytest.mark.parametrize("value", ["besselk(10^15, 1)", "besselk(10^6, 1)", "exp(10^8)"])
def test_a_value_too_large_for_lll_is_refused_in_one_line(value):
    line = refusal(run_cli("identify", value, timeout=30))
    assert "10,000 digits before the point" in line


def test_a_huge_user_catalog_constant_neither_aborts_nor_hides_the_others(tmp_path):
    catalog = tmp_path / "huge.toml"
    catalog.write_text('[[constant]]\nname = "hugek"\nvalue = "besselk(10^15, 1)"\n', encoding="utf-8")
    result = run_cli("identify", "1.2345678901234567890123456789012345678901234567", "--catalog", str(catalog),
                     "--budget", "1", timeout=60)
    assert result.returncode == 1, result.stderr[-2000:]
    found = run_cli("identify", "4/pi", "--catalog", str(catalog), "--budget", "1", timeout=60)
    assert found.returncode == 0 and "closed_form      4/pi" in found.stdout, found.stderr[-2000:]


def test_an_expression_that_evaluates_too_slowly_is_refused_naming_it_and_the_limit():
    # clsin(2.5, 1) takes minutes at 1,000 digits; it gets --budget + 10 s in a child process.
    line = refusal(run_cli("identify", "clsin(2.5, 1)", "--digits", "500", "--budget", "0", timeout=40))
    assert "'clsin(2.5, 1)'" in line and "1,020 digits" in line and "10 s" in line


# --- defect 8: metrics of a fraction whose floats overflow, identification under a common scaling ----

def test_metrics_of_a_high_degree_fraction_are_measured_not_divergent():
    result = run_cli("pcf", "metrics", "n^50+1", "n^2", "--format", "json")
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout)
    assert record["convergence_class"] == "factorial"
    assert abs(record["limit"] - 1.5) < 1e-12


def test_a_fraction_scaled_by_a_huge_factor_is_identified_like_the_unscaled_one():
    result = run_cli("identify", "10^1000*(2n+1)", "10^2000*n^2", "--format", "json", "--budget", "1")
    assert result.returncode == 0, result.stderr[-2000:]
    record = json.loads(result.stdout)
    assert record["constant"] == "pi" and record["kind"] == "mobius"
    assert record["relation"] == [4 * 10**1000, 0, 0, -1]


CANONICAL = """
from discovery.pcf import PCF
scaled = PCF("(2^89-1)*10^500*(2n+1)", "(2^89-1)^2*10^1000*3*n^2")
assert scaled.canonical() == PCF("2n+1", "3n^2"), scaled.canonical()
assert scaled.canonical_factor() == (2**89 - 1) * 10**500
lone = PCF("10^1000*(2n+1)", "7*n^2")  # no d > 1 with d | 10^1000 and d^2 | 7
assert lone.canonical() == lone and lone.canonical_factor() == 1
"""


def test_the_canonical_form_of_huge_contents_is_found_without_a_search_over_divisors():
    # The old search tried every d from the content of a(n) down: 10^1000 steps.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", CANONICAL], capture_output=True, text=True, env=env, timeout=60,
                            preexec_fn=_limit_memory)
    assert result.returncode == 0, result.stderr[-2000:]


# --- defect 7: coefficients beyond Python's 4,300-digit integer-to-text limit -----------------------

@pytest.mark.parametrize("command", [("pcf", "eval"), ("identify",)])
def test_coefficients_of_5000_digits_are_evaluated_and_printed(command):
    result = run_cli(*command, "10^5000*n+1", "n^2", "--format", "json", timeout=60)
    assert result.returncode in (0, 1), result.stderr[-2000:]
    assert "1" + "0" * 5000 + "*n" in result.stdout  # a(n) printed in full


def test_a_message_about_a_huge_coefficient_is_built_without_the_integer_text_limit():
    from discovery.errors import InputError
    from discovery.pcf import PCF

    with pytest.raises(InputError, match=r"100000\.\.\.000000 \(5,001 digits\).*does not fit in int64"):
        PCF([10**5000, 1], [1, 0, 0]).as_arrays()


# --- defect 9: refusals that say the right thing -----------------------------------------------------

def test_the_digit_count_of_a_power_is_its_logarithm_not_a_multiple_of_it():
    from discovery.errors import InputError
    from discovery.constants import parse
    from discovery.expressions import MAX_DIGITS

    parse("10^19999")  # 20,000 digits: allowed (was refused as "about 4.4e+04")
    parse("10^10000*10^9999")
    with pytest.raises(InputError, match=f"about 20,001 digits refused \\(at most {MAX_DIGITS:,}\\)"):
        parse("10^20000")


def test_an_infinite_delta_bound_is_refused_as_not_finite(tmp_path):
    from discovery import cli

    with pytest.raises(cli.UsageError, match="expected a finite number, got inf"):
        cli.build_parser().parse_args(["query", "--db", str(tmp_path / "x.db"), "--delta", "0", "inf"])


def test_a_division_by_zero_in_a_target_says_where():
    from discovery.errors import InputError
    from discovery.programs.targets import make_target

    with pytest.raises(InputError, match=r"division by zero at x = 0\.0$"):
        make_target("1/x", (-1.0, 1.0))


# --- defect 4: numeric options are bounded by what the work costs ------------------------------------

def test_a_depth_whose_exact_convergents_would_not_fit_is_refused_before_work():
    result = run_cli("pcf", "eval", "2n+1", "n^2", "--depth", "10000000", timeout=30)
    line = refusal(result)
    assert "depth 10,000,000 refused" in line and "at most 15,000,000" in line


def test_metrics_refuse_exact_convergents_beyond_the_bound():
    line = refusal(run_cli("pcf", "metrics", "n^10+1", "n^2", "--depth", "1000000", "--sample", "999999",
                           timeout=60))
    assert "depth 999,999 refused" in line


def test_the_estimate_of_convergent_digits_bounds_the_real_size():
    import gmpy2

    from discovery.pcf import PCF
    from discovery.pcf.exact import convergent_digits

    for a, b in (("2n+1", "n^2"), ("n^5+3", "-2n^3"), ("7", "12")):
        pcf = PCF(a, b)
        p, q = pcf.convergent(3000)
        actual = max(len(gmpy2.mpz(abs(p)).digits()), len(gmpy2.mpz(abs(q)).digits()))
        assert actual <= convergent_digits(pcf.a, pcf.b, 3000) <= 1.5 * actual + 10


@pytest.mark.parametrize("args", [
    ("pcf", "survey", "--count", "1000001", "--out", "x.npz"),
    ("programs", "evolve", "--target", "exp2", "--interval", "0", "1", "--population", "100001"),
])
def test_sizes_beyond_the_stated_bounds_are_refused_in_one_line(args):
    from discovery import cli

    with pytest.raises(cli.UsageError, match="is out of range"):
        cli.build_parser().parse_args(list(args))
