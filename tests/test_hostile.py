"""Hostile text never runs code: every place text becomes mathematics refuses it in one line.

Each payload of the corpus would create a sentinel file if any entry point evaluated it as Python
(the classic ``eval`` escapes, sympy's ``sympify`` tricks, format strings, walrus, unicode
look-alikes).  The sentinel must never appear, and each refusal is one line.
"""

import contextlib
import io
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery import cli
from discovery.errors import InputError
from discovery.constants import parse
from discovery.pcf import PCF
from discovery.programs.targets import make_target

SENTINEL = "/tmp/discovery-hostile-sentinel"  # noqa: S108 - payload strings must name a fixed path

PAYLOADS = [
    f"__import__('os').system('touch {SENTINEL}')",
    f'__import__("os").system("touch {SENTINEL}")',
    "().__class__.__base__.__subclasses__()",
    f"[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{SENTINEL}'])",
    f"(lambda: __import__('os').system('touch {SENTINEL}'))()",
    f"open('{SENTINEL}', 'w')",
    f"exec(\"open('{SENTINEL}', 'w')\")",
    f"eval(\"open('{SENTINEL}', 'w')\")",
    "globals()",
    "getattr(1, '__class__')",
    f"f'{{__import__(\"os\").system(\"touch {SENTINEL}\")}}'",
    f"(x := __import__('os')).system('touch {SENTINEL}')",
    f"1; __import__('os').system('touch {SENTINEL}')",
    f"1\n__import__('os').system('touch {SENTINEL}')",
    f"Function('f')(n) + Symbol('x') + S('open(\"{SENTINEL}\", \"w\")')",
    f"sympify('open(\"{SENTINEL}\", \"w\")')",
    "n.__class__",
    "n[0]",
    "{}",
    "...",
    "b'n'",
    "0x10",
    "1j",
    "n if n else 1",
    "not n",
    "n == 1",
    "n @ n",
    "n % 2",
    "n // 2",
    "n & 1",
    "# comment",
    "\\x41",
    "__𝒾𝓂𝓅ℴ𝓇𝓉__('os')",  # NFKC folds this to __import__ in Python source, not here
    "ｅｘｐ(1)",  # full-width letters: not the function exp
    "n" * 3000,
    "(" * 5000 + "n" + ")" * 5000,
    "9**9**9**9",
    "n**(10**10**10)",
    "factorial(10**7)",
    "zeta(10**9)",
    "gamma(99999)",
    "1e1000000000",
    "+".join(["1"] * 5000),
]


@pytest.fixture(autouse=True)
def no_sentinel():
    if os.path.exists(SENTINEL):
        os.remove(SENTINEL)
    yield
    assert not os.path.exists(SENTINEL), "a hostile input ran code"


def _one_line_refusal(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    assert isinstance(info.value, InputError), f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    assert message and "\n" not in message
    return message


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("variables", [(), ("n",), ("x",)])
def test_parser_refuses(payload, variables):
    _one_line_refusal(parse, payload, variables)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_pcf_refuses(payload):
    assert _one_line_refusal(PCF, payload, "n").startswith("a(n): ")
    assert _one_line_refusal(PCF, "n", payload).startswith("b(n): ")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_program_target_refuses(payload):
    _one_line_refusal(make_target, payload, (0.0, 1.0))


def _run_cli(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    return status, out.getvalue(), err.getvalue()


def _assert_cli_refusal(argv):
    status, _, err = _run_cli(argv)
    assert status in (1, 2), (argv, status, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("discovery: error: "), err
    assert "Traceback" not in err


@pytest.mark.parametrize("payload", PAYLOADS)
def test_cli_refuses(payload, tmp_path):
    _assert_cli_refusal(["identify", payload])
    _assert_cli_refusal(["pcf", "eval", payload, "n"])
    _assert_cli_refusal(["pcf", "metrics", "2n+1", payload])
    _assert_cli_refusal(["programs", "baselines", "--target", payload, "--interval", "0", "1"])
    _assert_cli_refusal(["identify", payload, "n^2"])


@pytest.mark.parametrize("payload", PAYLOADS[:16])
def test_program_campaign_file_refuses(payload, tmp_path):
    from discovery.campaign import ConfigError, load_config

    config = tmp_path / "hostile.toml"
    name = payload.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    config.write_text(
        '[campaign]\nname = "h"\nkind = "program"\n'
        f'[target]\nname = "{name}"\ninterval = [0.0, 1.0]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert "\n" not in str(info.value)
    _assert_cli_refusal(["campaign", "run", str(config), "--db", str(tmp_path / "h.db")])


_HOSTILE_ALPHABET = st.sampled_from(list("n x()[]{}.,:;'\"_=+-*/^%@!~<>|&#\\\n\t0123456789abcdeEloprtsimu") + [
    "__", "import", "os", "system", "lambda", "class", "exec", "eval", "open", "**", "pi", "exp",
])


@given(st.lists(_HOSTILE_ALPHABET, max_size=40).map("".join))
def test_random_text_is_parsed_or_refused_in_one_line(text):
    for variables in ((), ("n",)):
        try:
            expr = parse(text, variables)
        except InputError as err:
            assert "\n" not in str(err)
            continue
        try:
            expr.sympy()
        except InputError as err:
            assert "\n" not in str(err)


def test_no_evaluation_of_text_remains_in_the_package():
    """eval, sympify, parse_expr and pickle are gone; exec runs only generated program source."""
    import re
    from pathlib import Path

    import discovery

    forbidden = re.compile(r"\b(eval|sympify|parse_expr|__import__)\s*\(|\bimport pickle\b|\bpickle\.load")
    root = Path(discovery.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#")[0]
            if forbidden.search(code):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
            if re.search(r"\bexec\s*\(", code) and path.name != "graph.py":
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)


def test_a_space_too_large_for_memory_is_refused_before_allocating(tmp_path):
    # A survey holds its whole table in memory; campaigns cut units lazily and run such spaces.
    status, _, err = _run_cli(["pcf", "survey", "--degree-a", "3", "--degree-b", "3", "--bound", "6",
                               "--out", str(tmp_path / "t.npz")])
    assert status == 2 and "8.16e+08 PCFs" in err and len(err.strip().splitlines()) == 1
