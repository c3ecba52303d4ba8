"""The sample outputs in README.md, made by a real run of a small campaign, so they cannot go stale.

    python scripts/readme_samples.py           # rewrite every sample block of README.md
    python scripts/readme_samples.py --check   # exit 1 naming the blocks that differ

A sample block in README.md is

    <!-- sample: NAME -->
    ```text
    $ discovery ...
    (the output)
    ```
    <!-- /sample -->

and its text is what the command of :data:`SAMPLES` named NAME prints, run in a fresh folder after
the campaign file :data:`CAMPAIGN` was written there (block ``campaign-file``) and run.  Timings
and the last digits of floats are left out of the comparison (:func:`normalised`), so the check
holds on any machine; ``tests/test_readme.py`` runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

# Every PCF with a(n) of degree <= 1 and b(n) of degree <= 2, coefficients in [-1, 1]: a campaign
# of seconds that still finds formulas, families and clusters.
CAMPAIGN = """\
[campaign]
name = "small"
kind = "pcf"
seed = 0
description = "a(n) degree <= 1, b(n) degree <= 2, coefficients in [-1, 1]"

[space]
degree_a = 1
degree_b = 2
bound = 1

[search]
strategy = "enumerate"
depth = 1000          # float evaluation and convergence filter
metrics_depth = 2000  # reference depth of the dynamics metrics
sample = 1000         # depth at which delta is measured

[identify]
constants = "all"
digits = 30           # LLL screening digits
confirm_digits = 60   # relations must hold to this many digits, with exact convergents
mobius_bound = 3      # meet-in-the-middle table: |c_i| <= 3 in (c0 + c1 x)/(c2 + c3 x)

[execution]
workers = 1
"""

# (block name, command line after "discovery"), run in this order in one folder.
SAMPLES = [
    ("run", ["run", "small.toml", "--quiet"]),
    ("status", ["campaign", "status", "--db", "discoveries.db"]),
    ("query", ["query", "--db", "discoveries.db", "--campaign", "small", "--sort", "delta", "--limit", "8"]),
    ("report", ["report", "--db", "discoveries.db", "--out", "report"]),
    ("identify-pcf", ["identify", "2n+1", "n^2"]),
    ("identify-expression", ["identify", "(exp(pi) - 3)/(exp(pi) + 1)"]),
    ("identify-float", ["identify", "1.6449340668482264"]),
    ("identify-screen", ["identify", "1.6449340668482264", "--digits", "8"]),
    ("identify-nothing", ["identify", "1.2345678901234567890123456789012345678901234567890"]),
]

_BLOCK = re.compile(r"(<!-- sample: (?P<name>[\w-]+) -->\n)(?P<body>.*?)(<!-- /sample -->)", re.S)


def _shown(argv: list[str]) -> str:
    """A command line as a shell prompt shows it (arguments with spaces or parentheses quoted)."""
    words = [f'"{a}"' if re.search(r"[\s()^*]", a) else a for a in argv]
    return "$ discovery " + " ".join(words)


def generate(folder: Path) -> dict[str, str]:
    """Run the samples in ``folder`` (written into) and return each block's text by name."""
    from discovery.cli import main

    (folder / "small.toml").write_text(CAMPAIGN)
    texts = {"campaign-file": "```toml\n" + CAMPAIGN + "```\n"}
    with contextlib.chdir(folder):
        for name, argv in SAMPLES:
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                main(argv)
            shown = [line.rstrip() for line in (out.getvalue() + err.getvalue()).splitlines()]
            if argv[0] == "run":
                shown = [line.replace("--quiet", "") for line in shown]
            command = _shown([a for a in argv if a != "--quiet"])
            texts[name] = "```text\n" + "\n".join([command, *shown]) + "\n```\n"
    return texts


def normalised(text: str) -> str:
    """Text with what varies between runs and machines masked: timings and the digits of floats
    past the fourth decimal."""
    text = re.sub(r"\d+(\.\d+)? s\b", "T s", text)
    return re.sub(r"(\d\.\d{4})\d+", r"\1", text)


def blocks(readme: str) -> dict[str, str]:
    """The sample blocks of a README, by name."""
    return {m["name"]: m["body"] for m in _BLOCK.finditer(readme)}


def rewritten(readme: str, texts: dict[str, str]) -> str:
    """The README with every sample block replaced by its text."""
    def replace(m):
        if m["name"] not in texts:
            raise SystemExit(f"README.md has a sample block {m['name']!r} that no command makes")
        return m.group(1) + texts[m["name"]] + m.group(4)

    return _BLOCK.sub(replace, readme)


def stale(readme: str, texts: dict[str, str]) -> list[str]:
    """The names of the samples whose README block differs from a run (or is missing)."""
    found = blocks(readme)
    return [name for name, text in texts.items()
            if name not in found or normalised(found[name]) != normalised(text)]


def main() -> int:
    parser = argparse.ArgumentParser(description="Rewrite or check the sample outputs of README.md.")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 naming the stale blocks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        texts = generate(Path(folder))
    readme = README.read_text(encoding="utf-8")
    if args.check:
        names = stale(readme, texts)
        if names:
            print(f"stale README samples: {', '.join(names)} (run python scripts/readme_samples.py)")
            return 1
        print("README samples are current")
        return 0
    README.write_text(rewritten(readme, texts), encoding="utf-8")
    missing = set(texts) - set(blocks(readme))
    if missing:
        print(f"no block in README.md for: {', '.join(sorted(missing))}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
