"""The argument parser of the ``discovery`` command: one builder per group of commands."""

from __future__ import annotations

import argparse

from discovery.cli import campaigns, database
from discovery.cli import pcf as pcf_cli
from discovery.cli import programs as program_cli
from discovery.cli.arguments import depth_arg, finite, float_in, int_in, positive_int, scheduler_arg, seed_arg
from discovery.novelty import NOVELTY_LABELS
from discovery.pcf.exact import MAX_CONVERGENT_DIGITS


class UsageError(Exception):
    """A command line that argparse refuses."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a refused command line raises (one line from main) instead of printing the
    usage block and exiting, so in-process callers and tests see every error the same way."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``discovery`` command."""
    parser = ArgumentParser(
        prog="discovery",
        description="Discover formulas: polynomial continued fractions and short programs. "
        "Add --debug anywhere to see the traceback of an error.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _pcf_parsers(commands)
    _identify_parser(commands)
    _campaign_parsers(commands)
    _database_parsers(commands)
    _program_parsers(commands)
    _run_parser(commands)
    _constants_parser(commands)
    return parser


def _constants_parser(commands) -> None:
    """The ``constants`` command: the catalog."""
    co = commands.add_parser("constants", help="list the catalog of constants (names, aliases, values)",
                             description="The constants identification tries, with their aliases, sympy forms "
                             "and values; --catalog adds a user's TOML file.")
    co.add_argument("--catalog", help="a TOML file of more constants ([[constant]] name, value, ...)")
    co.add_argument("--digits", type=int_in(5, 1000), default=20, help="digits of each value (5 to 1000, default 20)")
    co.add_argument("--format", choices=("table", "json"), default="table")
    co.set_defaults(handler=database.constants)


def _pcf_parsers(commands) -> None:
    """The ``pcf`` commands: eval, metrics, survey, cluster."""
    pcf = commands.add_parser("pcf", help="work with polynomial continued fractions")
    pcf_commands = pcf.add_subparsers(dest="pcf_command", required=True, metavar="COMMAND")
    ev = pcf_commands.add_parser(
        "eval",
        help="evaluate one PCF to its correct digits",
        description="Evaluate a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)) exactly at a depth.",
    )
    ev.add_argument("a", help='a(n): "2n+1", "n^2+1" or coefficients "[2,1]" (highest degree first)')
    ev.add_argument("b", help='b(n), in the same forms as a(n)')
    ev.add_argument("--depth", type=depth_arg, default=1000,
                    help=f"convergent depth (default 1000), at most 10,000,000 and refused where the exact "
                    f"convergents would pass {MAX_CONVERGENT_DIGITS:,} digits (about 20 s and 1 GB)")
    ev.add_argument(
        "--max-digits", type=int_in(1, 10**6), default=100,
        help="print at most this many digits (at most 1,000,000: printing costs quadratic time)"
    )
    ev.add_argument("--format", choices=("table", "json"), default="table")
    ev.set_defaults(handler=pcf_cli.pcf_eval)

    me = pcf_commands.add_parser(
        "metrics",
        help="convergence-dynamics metrics of one PCF",
        description="delta (irrationality measure), growth of the reduced denominator, "
        "convergence rate and eigenvalue ratio of one PCF.",
    )
    me.add_argument("a", help='a(n), as for "pcf eval"')
    me.add_argument("b", help="b(n)")
    me.add_argument("--depth", type=int_in(2, 10**6), default=2000,
                    help="reference depth (default 2000; at most 1,000,000: a float pass of about 3 s)")
    me.add_argument("--sample", type=int_in(1, 10**6), default=1000,
                    help=f"depth at which delta is measured (default 1000, below --depth); refused where its exact "
                    f"convergents would pass {MAX_CONVERGENT_DIGITS:,} digits")
    me.add_argument("--format", choices=("table", "json"), default="table")
    me.set_defaults(handler=pcf_cli.pcf_metrics)

    su = pcf_commands.add_parser(
        "survey",
        help="metrics of every PCF in a coefficient box (or a random sample) into a .npz table",
    )
    su.add_argument("--degree-a", type=int_in(0, 10), default=2, help="at most 10")
    su.add_argument("--degree-b", type=int_in(0, 20), default=2, help="at most 20")
    su.add_argument("--bound", type=positive_int, default=5,
                    help="coefficients in [-bound, bound], at most 10^9 (a box too large to hold is refused)")
    su.add_argument("--count", type=int_in(1, 10**6),
                    help="a random sample of this size instead of the whole box (at most 1,000,000: measured 68 s "
                    "per 50,000 on two cores, so about 25 minutes)")
    su.add_argument("--seed", type=seed_arg, default=0)
    su.add_argument("--anchors", type=int_in(-1, 100), default=7,
                    help="add the known formulas with this many tails each (-1: none; at most 100)")
    su.add_argument("--depth", type=int_in(2, 10**6), default=2000, help="as for 'pcf metrics' (at most 1,000,000)")
    su.add_argument("--sample", type=int_in(1, 10**6), default=1000, help="as for 'pcf metrics'")
    su.add_argument("--out", required=True, help="the .npz file to write")
    su.add_argument("--quiet", action="store_true", help="no progress bar")
    su.set_defaults(handler=pcf_cli.pcf_survey)

    cl = pcf_commands.add_parser("cluster", help="cluster a metric table and report the clusters")
    cl.add_argument("table", help="a .npz table written by 'discovery pcf survey'")
    cl.add_argument("--min-cluster-size", type=positive_int, default=5, help="at most 10^9 (costs nothing)")
    cl.add_argument("--seed", type=seed_arg, default=0, help="0 to 2^63-1")
    cl.add_argument("--top", type=positive_int, default=30,
                    help="report the largest clusters only (at most 10^9; costs nothing)")
    cl.add_argument("--plots", help="folder for the scatter plots (PNG)")
    cl.add_argument("--format", choices=("table", "json"), default="table")
    cl.set_defaults(handler=pcf_cli.pcf_cluster)

    cf = pcf_commands.add_parser(
        "closed-form",
        help="the hypergeometric closed form of a PCF with deg a <= 1, deg b <= 2",
        description="The limit as a ratio of 2F1, 1F1, 0F1 or Tricomi U functions with parameters read off the "
        "coefficients (simplified to elementary and named functions where sympy can), confirmed against the "
        "fraction's exact convergents. Exit status 1 when there is none (a higher degree, no limit).",
    )
    cf.add_argument("a", help='a(n), as for "pcf eval" (degree at most 1)')
    cf.add_argument("b", help="b(n) (degree at most 2)")
    cf.add_argument("--digits", type=int_in(15, 2000), default=50,
                    help="digits to confirm (default 50; 15 to 2000: exact convergents are taken deep enough)")
    cf.add_argument("--format", choices=("table", "json"), default="table")
    cf.set_defaults(handler=pcf_cli.pcf_closed_form)


def _identify_parser(commands) -> None:
    """The ``identify`` command."""
    idf = commands.add_parser(
        "identify",
        help="find and confirm a closed form of a number or of a PCF's limit",
        description="Screens integer relations with LLL, escalating within a time budget: rational, Möbius in "
        "one catalog constant, quadratic, two constants at once, products of constants. Each candidate is "
        "confirmed on digits it was not screened on (twice the screening digits; for a slowly converging PCF, "
        "extrapolated, all the digits it reaches). Exit status 1 when nothing is confirmed.",
    )
    idf.add_argument("value", help="digits (1.2732395447...), a constant expression (4/pi), or a(n) of a PCF")
    idf.add_argument("b", nargs="?", help="b(n): given, the two arguments are a PCF")
    idf.add_argument("--constants", nargs="+", help="catalog names to try (default: all)")
    idf.add_argument("--digits", type=int_in(5, 5000),
                     help="screening digits (default: half the given digits, 50 for a PCF), 5 to 5000: LLL and the "
                     "confirmation run at twice as many")
    idf.add_argument("--degree", type=int, choices=(1, 2), default=1)
    idf.add_argument("--pairs", action="store_true", help="try two constants at once even with --no-escalate")
    idf.add_argument("--no-escalate", action="store_true",
                     help="stop after rational, Möbius in one constant and quadratic relations")
    idf.add_argument("--budget", type=float_in(0.0, 86_400.0), default=5.0, metavar="SECONDS",
                     help="seconds for the escalation (and the extrapolation of a slow PCF), at most 86400; "
                     "default 5. An expression gets 10 s more to evaluate, in a child process of at most 2 GiB")
    idf.add_argument("--catalog", help="a TOML file of more constants ([[constant]] name, value, ...)")
    idf.add_argument("--quiet", action="store_true", help="no progress bar for deep exact convergents")
    idf.add_argument("--format", choices=("table", "json"), default="table")
    idf.set_defaults(handler=pcf_cli.identify)


def _campaign_parsers(commands) -> None:
    """The ``campaign`` commands: run, status."""
    camp = commands.add_parser("campaign", help="run search campaigns from TOML files")
    camp_commands = camp.add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    cr = camp_commands.add_parser(
        "run",
        help="run or resume a campaign",
        description="Run a campaign into a database. Stop it at any moment (Ctrl-C, or kill it); "
        "the same command resumes it without losing or duplicating results.",
    )
    cr.add_argument("config", help="campaign TOML file (examples: data/campaigns/ in the repository)")
    cr.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    cr.add_argument("--max-units", type=positive_int, help="stop after this many new work units")
    cr.add_argument("--scheduler", type=scheduler_arg,
                    help="run the units on Dask: tcp://host:8786, or local:N for N worker processes here "
                    "(overrides [execution] scheduler; needs the dask extra)")
    cr.add_argument("--quiet", action="store_true", help="no progress bars")
    cr.set_defaults(handler=campaigns.campaign_run)
    cs = camp_commands.add_parser("status", help="progress and findings of the campaigns in a database")
    cs.add_argument("--db", required=True)
    cs.set_defaults(handler=campaigns.campaign_status)


def _database_parsers(commands) -> None:
    """The commands that read a database: query, families, report."""
    q = commands.add_parser("query", help="list stored formulas")
    q.add_argument("--db", required=True)
    q.add_argument("--kind", choices=("pcf", "program"))
    q.add_argument("--constant", help="catalog name, e.g. pi, e, ln2, zeta3")
    q.add_argument("--target", help="target function of programs")
    q.add_argument("--min-digits", type=float_in(0, 1e9), help="minimum digits verified (0 to 10^9)")
    q.add_argument("--cluster", type=int_in(-1, 2**62), help="cluster label (-1 to 2^62)")
    q.add_argument("--delta", type=finite, nargs=2, metavar=("LO", "HI"), help="FR delta range (two finite numbers)")
    q.add_argument("--campaign", help="campaign name")
    q.add_argument("--identified", action="store_true", help="only identified formulas")
    q.add_argument("--limit", type=positive_int, help="at most this many formulas (at most 10^9)")
    q.add_argument("--family", type=positive_int, help="only the members of this family (id, at most 10^9)")
    q.add_argument("--novelty", choices=NOVELTY_LABELS,
                   help="only identified PCFs with this novelty label (known, family, classical, new)")
    q.add_argument("--equivalent-to", nargs=2, metavar=("A", "B"),
                   help="only the stored PCFs that are the same formula as PCF(A, B) up to equivalence transforms, "
                   "inflation and tails (and the published ones, in the table)")
    q.add_argument("--format", choices=("table", "json", "csv"), default="table")
    q.set_defaults(handler=database.query)

    fam = commands.add_parser(
        "families", help="detect infinite families of PCFs, extend them beyond the box, print them",
        description="Finds identified PCFs of one constant on an integer line g(k) = base + k*direction, "
        "confirms members outside the searched box, fits the limit as a formula in k and stores it all.",
    )
    fam.add_argument("--db", required=True)
    fam.add_argument("--campaign", help="campaign name (default: every identified PCF in the database)")
    fam.add_argument("--stored", action="store_true", help="print the stored families without detecting again")
    fam.add_argument("--extend", type=int_in(1, 1000), default=10,
                     help="members outside the box to confirm in each direction (default 10, at most 1000: each "
                     "is one identification)")
    fam.add_argument("--format", choices=("table", "json"), default="table")
    fam.add_argument("--quiet", action="store_true", help="no progress bar")
    fam.set_defaults(handler=database.families)

    rep = commands.add_parser("report", help="write an offline HTML report of a campaign")
    rep.add_argument("--db", required=True)
    rep.add_argument("--campaign", help="campaign name (default: the latest)")
    rep.add_argument("--out", required=True, help="folder to write index.html into")
    rep.set_defaults(handler=database.report)


def _program_parsers(commands) -> None:
    """The ``programs`` commands: baselines, evolve, export."""
    progs = commands.add_parser("programs", help="evolve short programs that approximate functions")
    prog_commands = progs.add_subparsers(dest="programs_command", required=True, metavar="COMMAND")
    for name, handler, text in (
        ("baselines", program_cli.programs_baselines,
         "classical approximations (Taylor, Padé, minimax): scanned maximum errors and proven bounds"),
        ("evolve", program_cli.programs_evolve, "NSGA-II over (max error, operations) with CMA-ES constant tuning"),
    ):
        sp = prog_commands.add_parser(name, help=text, description=text)
        sp.add_argument("--target", required=True,
                        help="exp, exp2, ln, log2, erf, sin, cos, tanh, sqrt, or an mpmath expression in x")
        sp.add_argument("--interval", type=finite, nargs=2, required=True, metavar=("LO", "HI"),
                        help="two finite numbers")
        sp.add_argument("--error", choices=("auto", "relative", "absolute", "ulp32"), default="auto",
                        help="ulp32: run programs in float32 (fma fused) and judge them in ULPs")
        sp.add_argument("--max-ops", type=int_in(1, 64), default=10 if name == "evolve" else 16,
                        help="operations at most (1 to 64)")
        if name == "baselines":
            sp.add_argument("--format", choices=("table", "json"), default="table")
        else:
            sp.add_argument("--minutes", type=float_in(0, 10**6), default=30.0,
                            help="time budget (default 30, at most 10^6; the search stops on time)")
            sp.add_argument("--population", type=int_in(4, 10**5), default=100,
                            help="programs per generation (4 to 100,000: each holds its values on the sample grid)")
            sp.add_argument("--seed", type=seed_arg, default=0, help="0 to 2^63-1")
            sp.add_argument("--ops", default="add,sub,mul,div", help="operations, e.g. add,sub,mul,div,sqrt,fma")
            sp.add_argument("--no-classical-seeds", action="store_true", help="start from random programs only")
            sp.add_argument("--allow-inf", action="store_true",
                            help="accept programs finite only through IEEE infinities (c/0 = inf, then d/inf = 0; "
                                 "default: refused, in the search as in the front)")
            sp.add_argument("--checkpoint", help="checkpoint file (resumes if it exists)")
            sp.add_argument("--float32-exhaustive", action="store_true", help="check every float32 of the interval")
            sp.add_argument("--db", help="store the Pareto front in this database")
            sp.add_argument("--quiet", action="store_true")
        sp.set_defaults(handler=handler)
    _export_parser(prog_commands)


def _export_parser(prog_commands) -> None:
    """``programs export``: a stored program as code."""
    from discovery.programs.export import LANGUAGES

    text = ("write a stored program as code (c, python, numpy, numba, sympy, latex) performing exactly its "
            "operations, with its target, interval, proven bound and operation count as a comment")
    ex = prog_commands.add_parser("export", help=text, description=text)
    ex.add_argument("id", nargs="?", type=int_in(1, 2**62), help="stored program id (see discovery query)")
    ex.add_argument("--db", required=True, help="the database holding the program")
    ex.add_argument("--target", help="export the most accurate program for this target (with --ops)")
    ex.add_argument("--interval", type=finite, nargs=2, metavar=("LO", "HI"),
                    help="with --target: only programs on this interval (default: any)")
    ex.add_argument("--ops", type=int_in(1, 64), help="with --target: at most this many operations (1 to 64)")
    ex.add_argument("--lang", choices=LANGUAGES, default="c", help="language of the code (default c)")
    ex.add_argument("--name", default="f", help="function name (default f)")
    ex.add_argument("--c-type", choices=("double", "float"), default="double",
                    help="C only: floating-point type (default double; float uses fmaf, sqrtf, float32 constants)")
    ex.add_argument("--allow-inf", action="store_true",
                    help="export programs finite only through IEEE infinities, with an explicit limit branch at "
                         "each such point (default: refused)")
    ex.add_argument("--out", help="file to write (default: standard output)")
    ex.set_defaults(handler=program_cli.programs_export)


def _run_parser(commands) -> None:
    """The ``run`` command: the quickstart campaign."""
    run = commands.add_parser(
        "run",
        help="run the quickstart campaign into ./discoveries.db and print what it found",
        description="With no arguments: runs data/campaigns/quickstart.toml (a couple of minutes).",
    )
    run.add_argument("config", nargs="?", help="another campaign file")
    run.add_argument("--db", default="discoveries.db")
    run.add_argument("--quiet", action="store_true")
    run.set_defaults(handler=campaigns.run_default)
