"""The README is a short user guide whose sample outputs are those of a real run, and whose links
lead somewhere."""

import contextlib
import importlib.util
import io
import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")
CI_COMMAND = ('python -m venv .venv && .venv/bin/python -m pip install -e ".[test]" && '
              ".venv/bin/python -m ruff check . && .venv/bin/python -m pytest")


def _samples():
    spec = importlib.util.spec_from_file_location("readme_samples", REPO / "scripts" / "readme_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_samples_are_those_of_a_real_run(tmp_path):
    samples = _samples()
    # A fresh interpreter, as a user's: other tests of this process may have loaded constants of
    # their own into the catalog, which the samples count.
    script = ("import json, sys, importlib.util, pathlib; "
              f"spec = importlib.util.spec_from_file_location('s', {str(REPO / 'scripts' / 'readme_samples.py')!r}); "
              "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
              "print(json.dumps(m.generate(pathlib.Path(sys.argv[1]))))")
    run = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, cwd=REPO,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    texts = json.loads(run.stdout.splitlines()[-1])
    assert set(samples.blocks(README)) == set(texts), "a sample block has no command, or a command no block"
    stale = samples.stale(README, texts)
    found = samples.blocks(README)
    assert not stale, (f"stale README samples {stale}: run python scripts/readme_samples.py\n"
                       + "\n".join(f"README:\n{found.get(n)}\nrun:\n{texts[n]}" for n in stale))

    # The run left a database with a family of tails (a(n) = n + k, b(n) = 1: I1(2)/I0(2)); the
    # families command says so, as the report does.
    from discovery.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["families", "--db", str(tmp_path / "discoveries.db"), "--stored"]) == 0
    assert "Its members are tails of one another: the member at k + 1 is the one at k started from n = 1" \
        in out.getvalue()


def test_the_comparison_ignores_timings_and_float_noise_but_not_results():
    samples = _samples()
    assert samples.normalised("complete in 19.0 s, 0.013 s") == samples.normalised("complete in 240.3 s, 2 s")
    assert samples.normalised("0.0828054163347626") == samples.normalised("0.0828054163347611")
    assert samples.normalised("pi (12)") != samples.normalised("pi (14)")
    assert samples.normalised("delta 1.0012") != samples.normalised("delta 1.0013")


def test_the_readme_is_a_user_guide_with_the_ci_command_and_working_links():
    assert CI_COMMAND in README  # .ci/run and CI depend on this very line
    assert len(README.splitlines()) < 320  # the internals live in docs/
    headings = re.findall(r"^## (.+)$", README, flags=re.M)
    assert headings[:4] == ["Install", "Quickstart", "The five commands", "The campaign file"]
    links = re.findall(r"\]\((docs/[^)#]+)\)", README)
    assert len(links) >= 8
    for link in links:
        assert (REPO / link).is_file(), f"README links to a missing {link}"
    for doc in (REPO / "docs").glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", doc.read_text(encoding="utf-8")):
            assert (doc.parent / target).is_file(), f"{doc.name} links to a missing {target}"
