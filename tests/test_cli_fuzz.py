"""Every subcommand with random junk arguments, and campaign files and catalogs with hostile
contents: exit 1 or 2 with one line on stderr, never a traceback, a hang or more than 2 GB.

Runs ``discovery.cli.main`` in-process (under a soft address-space cap), and runs a few fuzzed
campaigns for real in capped subprocesses.  The handlers that would start long jobs when the junk
happens to be a valid command line (a survey of a whole box, an evolution, a campaign) are replaced
by stubs: what is fuzzed is the refusal of bad input, which happens before they would start.
"""

import contextlib
import io
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from discovery import cli
from discovery.cli import campaigns as cli_campaigns
from discovery.cli import pcf as cli_pcf
from discovery.cli import programs as cli_programs

SUBCOMMANDS = {
    ("pcf", "eval"): ["--depth", "--max-digits", "--format"],
    ("pcf", "metrics"): ["--depth", "--sample", "--format"],
    ("pcf", "survey"): ["--degree-a", "--degree-b", "--bound", "--count", "--seed", "--anchors", "--depth",
                        "--sample", "--out", "--quiet"],
    ("pcf", "cluster"): ["--min-cluster-size", "--seed", "--top", "--plots", "--format"],
    ("identify",): ["--constants", "--digits", "--degree", "--pairs", "--format"],
    ("campaign", "run"): ["--db", "--max-units", "--quiet"],
    ("campaign", "status"): ["--db"],
    ("query",): ["--db", "--kind", "--constant", "--target", "--min-digits", "--cluster", "--delta", "--campaign",
                 "--identified", "--limit", "--format"],
    ("programs", "baselines"): ["--target", "--interval", "--error", "--max-ops", "--format"],
    ("programs", "evolve"): ["--target", "--interval", "--error", "--max-ops", "--minutes", "--population", "--seed",
                             "--ops", "--no-classical-seeds", "--checkpoint", "--float32-exhaustive", "--db"],
    ("run",): ["--db", "--quiet"],
}

JUNK_VALUES = ["-1", "0", "3", "nan", "inf", "-inf", "1e999", "99999999999", "abc", "", " ", "--", "-",
               "2n+1", "n^2", "[1,2]", "pi", "4/pi", "exp2", "x*", "((", "\x00", "\u202e", "é", "-n*(2n-3)",
               "/nonexistent/file.db", "table", "json", "csv", "pcf", "program", "1.5", "10", "-3"]


@pytest.fixture(autouse=True)
def _stub_long_jobs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    for module, name in ((cli_pcf, "pcf_survey"), (cli_programs, "programs_evolve"), (cli_campaigns, "run_default")):
        monkeypatch.setattr(module, name, lambda args: 0)


def _tokens(options):
    return st.lists(st.one_of(st.sampled_from(options), st.sampled_from(JUNK_VALUES), st.text(max_size=12)),
                    min_size=1, max_size=6)


@pytest.mark.parametrize("command", list(SUBCOMMANDS), ids=" ".join)
@given(data=st.data())
def test_junk_arguments_give_one_line_errors(command, data):
    argv = [*command, *data.draw(_tokens(SUBCOMMANDS[command]))]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    text = err.getvalue()
    assert "Traceback" not in text
    if status == 0 or (command == ("identify",) and status == 1 and not text):
        return  # the junk happened to be a valid command line (identify: exit 1 means nothing confirmed)
    assert status in (1, 2), (argv, status, text)
    errors = [line for line in text.splitlines() if line.startswith("discovery: error: ")]
    assert len(errors) == 1, (argv, text)
    assert "internal error" not in errors[0], (argv, text)


def test_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "not-a-db.db"
    bad.write_bytes(b"this is not a database" * 100)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(["query", "--db", str(bad), "--debug"])
    assert status == 1
    assert "Traceback" in err.getvalue()
    assert err.getvalue().strip().splitlines()[-1].startswith("discovery: error: ")


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["query", "--db", "x.db", "--min-digits", "-3"], "--min-digits: -3 is out of range"),
        (["pcf", "eval", "2n+1", "n^2", "--depth", "0"], "--depth: 0 is out of range"),
        (["programs", "baselines", "--target", "exp", "--interval", "0", "nan"], "got nan"),
        (["programs", "evolve", "--target", "exp", "--interval", "0", "1", "--population", "2"], "--population"),
        (["nonsense"], "invalid choice"),
        ([], "required"),
    ],
)
def test_usage_errors_exit_2(argv, fragment):
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        status = cli.main(argv)
    assert status == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("discovery: error: ") and fragment in lines[0]


# --- campaign files and catalogs -------------------------------------------------------------------
# Hostile values for any key: huge and odd numbers, odd strings, wrong types, deep nesting.
_HOSTILE_SCALARS = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0, 1, 2, 3, -1, 10**6, 10**9, 10**12, 2**62, 2**63 - 1, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "../../x", "/abs/x", "x" * 5000, "local:1000", "tcp://127.0.0.1:1", "pi", "I",
                     "all", "evolve", "mitm", "drop", "/dev/zero", "cat.toml", "\u202e", "é"]),
)
_HOSTILE = st.recursive(_HOSTILE_SCALARS, lambda inner: st.lists(inner, max_size=3), max_leaves=6)

CAMPAIGN_KEYS = {
    "campaign": ["name", "kind", "seed", "description"],
    "space": ["degree_a", "degree_b", "bound", "a", "b"],
    "target": ["name", "interval", "max_ops", "ops", "error"],
    "search": ["strategy", "depth", "metrics_depth", "sample", "unit_size", "max_candidates", "triage", "minutes",
               "generations", "population", "offspring", "objectives"],
    "identify": ["constants", "digits", "confirm_digits", "mobius_bound", "representatives", "catalog",
                 "budget_seconds"],
    "execution": ["workers", "scheduler", "islands", "migrate_every"],
}
# A valid small campaign, so most drawn files differ from a runnable one in a key or two.
_BASE = {"campaign": {"name": "f", "kind": "pcf"}, "space": {"degree_a": 1, "degree_b": 1, "bound": 1},
         "search": {"unit_size": 50, "depth": 100, "metrics_depth": 300, "sample": 200},
         "execution": {"workers": 1}}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if v != v else ("inf" if v == float("inf") else "-inf" if v == -float("inf") else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)  # JSON's escapes are TOML's; a lone surrogate makes the file invalid, also fine
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def _toml(doc: dict) -> str:
    return "".join(f"[{table}]\n" + "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in body.items())
                   for table, body in doc.items())


@st.composite
def _campaign_docs(draw):
    doc = {table: dict(body) for table, body in _BASE.items()}
    for _ in range(draw(st.integers(1, 4))):
        table = draw(st.sampled_from([*CAMPAIGN_KEYS, "junk"]))
        key = draw(st.sampled_from(CAMPAIGN_KEYS.get(table, ["x"]) + ["typo"]))
        doc.setdefault(table, {})[key] = draw(_HOSTILE)
    text = _toml(doc)
    if draw(st.booleans()):
        depth = draw(st.sampled_from([9, 50, 3000]))
        text = text.replace("[search]\n", "[search]\ndeep = " + "[" * depth + "]" * depth + "\n", 1)
    return text


@st.composite
def _catalog_docs(draw):
    entries = []
    for _ in range(draw(st.integers(1, 3))):
        entry = {"name": draw(st.one_of(st.sampled_from(["myk", "I", "E", "pi", "gamma", "x1", "lambda"]), _HOSTILE)),
                 "value": draw(st.one_of(st.sampled_from(["sqrt(2)", "exp(1)", "zeta(3)/pi^2", "1/0", "n",
                                                          "10^10^10", "(" * 500 + "1" + ")" * 500]), _HOSTILE))}
        for key in draw(st.lists(st.sampled_from(["sympy", "aliases", "description", "junk"]), max_size=2)):
            entry[key] = draw(st.one_of(st.sampled_from(["pi", "sqrt(2)", "E", "I"]), _HOSTILE))
        entries.append(entry)
    return "".join("[[constant]]\n" + "".join(f"{k} = {_toml_value(v)}\n" for k, v in e.items()) for e in entries)


@contextlib.contextmanager
def _memory_cap(extra=2 << 30):
    """A soft address-space cap of the current size plus ``extra`` bytes for the code inside."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        now = int(fh.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (min(now + extra, hard) if hard != resource.RLIM_INFINITY else now + extra,
                                            hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@contextlib.contextmanager
def _catalog_restored():
    """The catalog as it was: a fuzzed catalog's constants must not leak into other tests."""
    from discovery import constants

    saved = [(d, d.copy()) for d in (constants.CATALOG, constants._EXACT, constants._ALIASES,
                                     constants.SYMPY_LOCALS)]
    users = list(constants._USER)
    try:
        yield
    finally:
        for d, copy in saved:
            d.clear()
            d.update(copy)
        constants._USER[:] = users


def _one_error_line(argv, status, text):
    assert "Traceback" not in text, (argv, text)
    assert status in (1, 2), (argv, status, text)
    errors = [line for line in text.splitlines() if line.startswith("discovery: error: ")]
    assert len(errors) == 1, (argv, text)
    assert "internal error" not in errors[0], (argv, text)


# The stubs are the same for every example, so sharing the function-scoped monkeypatch is safe.
@settings(max_examples=40, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_campaign_docs())
@example(text=_toml(_BASE).replace("[search]\n", "[search]\ndeep = " + "[" * 3000 + "]" * 3000 + "\n"))
@example(text=_toml(_BASE) + "[identify]\ncatalog = " + json.dumps("{" * 10) + "\n")
def test_fuzzed_campaign_files_are_refused_in_one_line(tmp_path_factory, monkeypatch, text):
    """Loading (what happens before any work) refuses in one line; a file that loads is not run."""
    import discovery.campaign

    folder = tmp_path_factory.mktemp("campaign")
    (folder / "c.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    ran = []
    monkeypatch.setattr(discovery.campaign, "run_campaign",
                        lambda config, db, **kw: ran.append(discovery.campaign.load_config(config)))
    monkeypatch.setattr(cli.campaigns, "print_summary", lambda result, db, finished: None)
    argv = ["campaign", "run", str(folder / "c.toml"), "--db", str(folder / "c.db")]
    err = io.StringIO()
    with _memory_cap(), _catalog_restored(), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    if status == 0:
        assert ran  # loaded: a valid small campaign
        return
    _one_error_line(argv, status, err.getvalue())
    assert not (folder / "c.db").exists()


@settings(max_examples=30, derandomize=True)
@given(text=_catalog_docs())
def test_fuzzed_catalogs_are_refused_in_one_line(tmp_path_factory, text):
    folder = tmp_path_factory.mktemp("catalog")
    (folder / "cat.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    argv = ["identify", "1.5", "--catalog", str(folder / "cat.toml"), "--no-escalate", "--budget", "0"]
    err = io.StringIO()
    with _memory_cap(), _catalog_restored(), contextlib.redirect_stderr(err), \
            contextlib.redirect_stdout(io.StringIO()):
        status = cli.main(argv)
    if status == 0:
        return  # a valid catalog: 1.5 = 3/2 is identified
    _one_error_line(argv, status, err.getvalue())


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


@settings(max_examples=6, derandomize=True)
@given(text=_campaign_docs())
@example(text=_toml({**_BASE, "identify": {"mobius_bound": 10**6}}))
@example(text=_toml({**_BASE, "search": {"unit_size": 10**9}}))
def test_fuzzed_campaigns_run_under_two_gigabytes(tmp_path_factory, text):
    """What loads also runs (one unit) in a process capped at 2 GB, within a minute."""
    folder = tmp_path_factory.mktemp("run")
    (folder / "c.toml").write_text(text, encoding="utf-8", errors="surrogatepass")
    argv = ["campaign", "run", str(folder / "c.toml"), "--db", str(folder / "c.db"), "--max-units", "1", "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-m", "discovery", *argv], cwd=folder, env=env, capture_output=True,
                            text=True, timeout=120, preexec_fn=_limited)
    if result.returncode == 0:
        return
    _one_error_line(argv, result.returncode, result.stderr)
