"""The argument parser of the ``discovery`` command: one builder per group of commands."""

from __future__ import annotations

import argparse

from discovery.cli import campaigns, database
from discovery.cli import cmf as cmf_cli
from discovery.cli import pcf as pcf_cli
from discovery.cli import programs as program_cli
from discovery.cli.arguments import (depth_arg, finite, float_in, format_arg, int_in, positive_int, scheduler_arg,
                                     seed_arg)
from discovery.novelty import NOVELTY_LABELS
from discovery.pcf.exact import MAX_CONVERGENT_DIGITS
from discovery.store.reads import QUERY_SORTS


class UsageError(Exception):
    """A command line that argparse refuses."""


class HelpFormatter(argparse.HelpFormatter):
    """Help that states every option's default: ``(default: X)`` is added to an option's help
    unless the help already names its default, or the option has none (None, False, a flag)."""

    def _get_help_string(self, action):
        text = action.help or ""
        # Identity, not equality: a default of 0 is a default to show (0 == False).
        if action.default is None or action.default is False or action.default is argparse.SUPPRESS \
                or "default" in text:
            return text
        if action.option_strings or action.nargs in ("?", "*"):
            return f"{text} (default: %(default)s)"
        return text


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a refused command line raises (one line from main) instead of printing the
    usage block and exiting, so in-process callers and tests see every error the same way; help
    shows every option's default (:class:`HelpFormatter`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``discovery`` command, its commands in the order a user meets them."""
    parser = ArgumentParser(
        prog="discovery",
        description="Discover formulas: polynomial continued fractions (PCFs) for mathematical constants, and "
        "short programs that approximate functions. Start with 'discovery run'. Add --debug anywhere to see the "
        "traceback of an error.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _run_parser(commands)
    _identify_parser(commands)
    _query_parser(commands)
    _campaign_parsers(commands)
    _families_parser(commands)
    _report_parser(commands)
    _constants_parser(commands)
    _pcf_parsers(commands)
    _program_parsers(commands)
    _cmf_parsers(commands)
    return parser


def _db_arg(parser, required: bool = True) -> None:
    parser.add_argument("--db", required=required, metavar="PATH",
                        help="the SQLite formula database (a file; 'discovery run' writes ./discoveries.db)")


def _run_parser(commands) -> None:
    """The ``run`` command: the quickstart campaign."""
    run = commands.add_parser(
        "run",
        help="run the quickstart campaign (or a campaign file) and print what it found",
        description="With no arguments: runs data/campaigns/quickstart.toml into ./discoveries.db (a couple of "
        "minutes), then prints the identified formulas by constant. Rerunning resumes a stopped campaign, "
        "and only prints the results of a finished one.",
    )
    run.add_argument("config", nargs="?", help="a campaign TOML file (default: the quickstart campaign)")
    run.add_argument("--db", default="discoveries.db", metavar="PATH",
                     help="SQLite database file, created if missing")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.set_defaults(handler=campaigns.run_default)


def _identify_parser(commands) -> None:
    """The ``identify`` command."""
    idf = commands.add_parser(
        "identify",
        help="find and confirm a closed form of a number or of a PCF's limit",
        description="Screens integer relations with LLL, escalating within a time budget: rational, Möbius in "
        "one catalog constant, quadratic, two constants at once, products of constants. Each candidate is "
        "confirmed on digits it was not screened on (twice the screening digits; for a slowly converging PCF, "
        "extrapolated, all the digits it reaches). A number needs at least 20 digits (or give an expression "
        "such as 4/pi, or a PCF); a float of 13 to 19 digits (as pasted) is only screened, with --digits 6 to 9, and "
        "the answer states the screen's measured false-positive rate. Exit status 1 when nothing is confirmed "
        "(or, by a screen, found).",
    )
    idf.add_argument("value", help="digits (1.2732395447...), a constant expression (4/pi), or a(n) of a PCF")
    idf.add_argument("b", nargs="?", help="b(n): given, the two arguments are a PCF")
    idf.add_argument("--constants", nargs="+", metavar="NAME",
                     help="catalog names to try (default: all; see 'discovery constants')")
    idf.add_argument("--digits", type=int_in(5, 5000),
                     help="screening digits (default: half the given digits, 50 for a PCF), 5 to 5000: LLL and the "
                     "confirmation run at twice as many. With a float of fewer than 20 digits: the digits of a "
                     "low-precision screen, 6 to (digits given - 1)/2, nothing confirmed")
    idf.add_argument("--degree", type=int, choices=(1, 2), default=1,
                     help="1: Möbius relations (a + bx)/(c + dx); 2: also ratios of quadratics in one constant")
    idf.add_argument("--pairs", action="store_true", help="try two constants at once even with --no-escalate")
    idf.add_argument("--no-escalate", action="store_true",
                     help="stop after rational, Möbius in one constant and quadratic relations")
    idf.add_argument("--budget", type=float_in(0.0, 86_400.0), default=5.0, metavar="SECONDS",
                     help="seconds for the escalation (and the extrapolation of a slow PCF), at most 86400; "
                     "default 5. An expression gets 10 s more to evaluate, in a child process of at most 2 GiB")
    idf.add_argument("--catalog", metavar="FILE", help="a TOML file of more constants ([[constant]] name, value, ...)")
    idf.add_argument("--quiet", action="store_true", help="no progress bar for deep exact convergents")
    format_arg(idf, ("table", "json"))
    idf.set_defaults(handler=pcf_cli.identify)


def _query_parser(commands) -> None:
    """The ``query`` command."""
    q = commands.add_parser(
        "query", help="list stored formulas (filter, sort, table, JSON or CSV)",
        description="Lists the formulas of a database: PCFs with a(n), b(n), their limit (closed form when "
        "identified, else the number), digits verified, delta and cluster; programs with their target, "
        "operations and errors. JSON and CSV add readable polynomials beside the coefficient lists.",
    )
    _db_arg(q)
    q.add_argument("--kind", choices=("pcf", "program"), help="only PCFs or only programs (default: both)")
    q.add_argument("--constant", metavar="NAME", help="only formulas of this catalog constant, e.g. pi, e, ln2, zeta3")
    q.add_argument("--target", metavar="NAME", help="only programs of this target function, e.g. exp2")
    q.add_argument("--min-digits", type=float_in(0, 1e9), metavar="N", help="minimum digits verified (0 to 10^9)")
    q.add_argument("--cluster", type=int_in(-1, 2**62), metavar="ID", help="cluster label (-1 to 2^62)")
    q.add_argument("--delta", type=finite, nargs=2, metavar=("LO", "HI"), help="FR delta range (two finite numbers)")
    q.add_argument("--campaign", metavar="NAME", help="only the formulas this campaign met")
    q.add_argument("--identified", action="store_true", help="only identified formulas")
    q.add_argument("--limit", type=positive_int, metavar="N",
                   help="at most this many formulas, after sorting (at most 10^9; default: all)")
    q.add_argument("--family", type=positive_int, metavar="ID",
                   help="only the members of this family (id, at most 10^9)")
    q.add_argument("--novelty", choices=NOVELTY_LABELS,
                   help="only identified PCFs with this novelty label (known, family, classical, new)")
    q.add_argument("--equivalent-to", nargs=2, metavar=("A", "B"),
                   help="only the stored PCFs that are the same formula as PCF(A, B) up to equivalence transforms, "
                   "inflation and tails (and the published ones, in the table)")
    q.add_argument("--sort", choices=tuple(QUERY_SORTS), default="constant",
                   help="order: constant (identified first, by constant), delta (highest first), digits (most "
                   "verified first), id, or error (programs: smallest max error first)")
    format_arg(q, ("table", "json", "csv"))
    q.set_defaults(handler=database.query)


def _campaign_parsers(commands) -> None:
    """The ``campaign`` commands: run, status."""
    camp = commands.add_parser(
        "campaign", help="run search campaigns from TOML files, and see their progress",
        description="A campaign is a search described by a TOML file (examples: data/campaigns/): its space, "
        "strategy, identification and execution. 'campaign run' runs or resumes one; 'campaign status' shows "
        "every campaign of a database.",
    )
    camp_commands = camp.add_subparsers(dest="campaign_command", required=True, metavar="COMMAND")
    cr = camp_commands.add_parser(
        "run",
        help="run or resume a campaign",
        description="Run a campaign into a database. Stop it at any moment (Ctrl-C, or kill it); "
        "the same command resumes it without losing or duplicating results.",
    )
    cr.add_argument("config", help="campaign TOML file (examples: data/campaigns/ in the repository)")
    cr.add_argument("--db", required=True, metavar="PATH", help="SQLite database file (created if missing)")
    cr.add_argument("--max-units", type=positive_int, metavar="N",
                    help="stop after this many new work units (generations of an evolve campaign), "
                    "resumable later (default: run to the end)")
    cr.add_argument("--scheduler", type=scheduler_arg,
                    help="run the units on Dask: tcp://host:8786, or local:N for N worker processes here "
                    "(overrides [execution] scheduler; needs the dask extra; default: the file's [execution])")
    cr.add_argument("--quiet", action="store_true", help="no progress bars")
    cr.set_defaults(handler=campaigns.campaign_run)
    cs = camp_commands.add_parser(
        "status", help="progress and findings of the campaigns in a database",
        description="For every campaign of the database: finished or in progress, work units done, candidates, "
        "converging and stored PCFs, clusters, identified formulas per constant and their novelty.",
    )
    _db_arg(cs)
    cs.set_defaults(handler=campaigns.campaign_status)


def _families_parser(commands) -> None:
    """The ``families`` command."""
    fam = commands.add_parser(
        "families", help="detect infinite families of PCFs, extend them beyond the box, print them",
        description="Finds identified PCFs of one constant on an integer line g(k) = base + k*direction, "
        "confirms members outside the searched box, fits the limit as a formula in k and stores it all.",
    )
    _db_arg(fam)
    fam.add_argument("--campaign", metavar="NAME",
                     help="campaign name (default: every identified PCF in the database)")
    fam.add_argument("--stored", action="store_true", help="print the stored families without detecting again")
    fam.add_argument("--extend", type=int_in(1, 1000), default=10, metavar="N",
                     help="members outside the box to confirm in each direction (default 10, at most 1000: each "
                     "is one identification)")
    format_arg(fam, ("table", "json"))
    fam.add_argument("--quiet", action="store_true", help="no progress bar")
    fam.set_defaults(handler=database.families)


def _report_parser(commands) -> None:
    """The ``report`` command."""
    rep = commands.add_parser(
        "report", help="write an offline HTML report of a campaign",
        description="Writes DIR/index.html: one file that opens offline, with the counts of every stage, the "
        "identified formulas per constant (MathML), families, the cluster map and plots. A finished campaign "
        "writes the same into its run folder, <db>_runs/<campaign>/.",
    )
    _db_arg(rep)
    rep.add_argument("--campaign", metavar="NAME", help="campaign name (default: the latest)")
    rep.add_argument("--out", required=True, metavar="DIR", help="folder to write index.html into")
    rep.set_defaults(handler=database.report)


def _constants_parser(commands) -> None:
    """The ``constants`` command: the catalog."""
    co = commands.add_parser(
        "constants", help="list the catalog of constants (names, aliases, values, definitions)",
        description="The constants identification tries: name, aliases, value, definition (a sympy form, or "
        "a user catalog's value text) and source (built in, or the catalog file); --catalog adds a user's "
        "TOML file, --search filters.",
    )
    co.add_argument("--search", metavar="TEXT",
                    help="only the constants whose name, aliases, definition or description contain TEXT "
                    "(case-insensitive)")
    co.add_argument("--catalog", metavar="FILE",
                    help="a TOML file of more constants ([[constant]] name, value, ...)")
    co.add_argument("--digits", type=int_in(5, 1000), default=30, help="digits of each value (5 to 1000)")
    format_arg(co, ("table", "json"))
    co.set_defaults(handler=database.constants)


def _pcf_parsers(commands) -> None:
    """The ``pcf`` commands: eval, metrics, survey, cluster."""
    pcf = commands.add_parser(
        "pcf", help="work with one polynomial continued fraction, or survey and cluster a box of them",
        description="A PCF is a(0) + b(1)/(a(1) + b(2)/(a(2) + ...)) with polynomials a(n), b(n): evaluate one, "
        "measure its convergence dynamics, find its hypergeometric closed form, or survey a coefficient box "
        "and cluster it by those dynamics.",
    )
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
    format_arg(ev, ("table", "json"))
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
    format_arg(me, ("table", "json"))
    me.set_defaults(handler=pcf_cli.pcf_metrics)

    su = pcf_commands.add_parser(
        "survey",
        help="metrics of every PCF in a coefficient box (or a random sample) into a .npz table",
        description="Computes the convergence-dynamics metrics of every PCF with a(n) of degree --degree-a and "
        "b(n) of degree --degree-b, coefficients in [-bound, bound] (or a random sample of them), and saves "
        "them with the known formulas as anchors for 'pcf cluster'.",
    )
    su.add_argument("--degree-a", type=int_in(0, 10), default=2, help="degree of a(n), at most 10")
    su.add_argument("--degree-b", type=int_in(0, 20), default=2, help="degree of b(n), at most 20")
    su.add_argument("--bound", type=positive_int, default=5,
                    help="coefficients in [-bound, bound], at most 10^9 (a box too large to hold is refused)")
    su.add_argument("--count", type=int_in(1, 10**6),
                    help="a random sample of this size instead of the whole box (at most 1,000,000: measured 68 s "
                    "per 50,000 on two cores, so about 25 minutes)")
    su.add_argument("--seed", type=seed_arg, default=0, help="seed of the random sample, 0 to 2^63-1")
    su.add_argument("--anchors", type=int_in(-1, 100), default=7,
                    help="add the known formulas with this many tails each (-1: none; at most 100)")
    su.add_argument("--depth", type=int_in(2, 10**6), default=2000,
                    help="reference depth, as for 'pcf metrics' (at most 1,000,000)")
    su.add_argument("--sample", type=int_in(1, 10**6), default=1000,
                    help="depth at which delta is measured, as for 'pcf metrics'")
    su.add_argument("--out", required=True, metavar="FILE", help="the .npz file to write")
    su.add_argument("--quiet", action="store_true", help="no progress bar")
    su.set_defaults(handler=pcf_cli.pcf_survey)

    cl = pcf_commands.add_parser(
        "cluster", help="cluster a metric table and report the clusters",
        description="HDBSCAN over the planes (delta, eta'), (delta, gamma'), (delta, eta), (delta, gamma) in turn, "
        "splitting again the clusters whose anchors (known formulas) point to different constants; prints a "
        "line per cluster and writes scatter plots.",
    )
    cl.add_argument("table", help="a .npz table written by 'discovery pcf survey'")
    cl.add_argument("--min-cluster-size", type=positive_int, default=5,
                    help="smallest cluster HDBSCAN reports, at most 10^9")
    cl.add_argument("--seed", type=seed_arg, default=0, help="seed of the down-sampling, 0 to 2^63-1")
    cl.add_argument("--top", type=positive_int, default=30,
                    help="report the largest clusters only (at most 10^9; costs nothing)")
    cl.add_argument("--plots", metavar="DIR", help="folder for the scatter plots (PNG; default: none written)")
    format_arg(cl, ("table", "json"))
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
    format_arg(cf, ("table", "json"))
    cf.set_defaults(handler=pcf_cli.pcf_closed_form)


def _program_parsers(commands) -> None:
    """The ``programs`` commands: baselines, evolve, export."""
    progs = commands.add_parser(
        "programs", help="evolve short programs that approximate functions",
        description="Straight-line programs of +, -, *, / (and optionally sqrt, fma) that approximate a target "
        "function on an interval with few operations: the classical baselines, an evolutionary search, and "
        "the export of a stored program as code.",
    )
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
                        help="the interval of x, two finite numbers")
        sp.add_argument("--error", choices=("auto", "relative", "absolute", "ulp32"), default="auto",
                        help="how errors are measured: relative, absolute, auto (relative unless the target "
                        "has a zero in the interval), ulp32 (run programs in float32, fma fused, judged in ULPs)")
        sp.add_argument("--max-ops", type=int_in(1, 64), default=10 if name == "evolve" else 16,
                        help="operations at most (1 to 64)")
        if name == "baselines":
            format_arg(sp, ("table", "json"))
        else:
            sp.add_argument("--minutes", type=float_in(0, 10**6), default=30.0,
                            help="time budget (default 30, at most 10^6; the search stops on time)")
            sp.add_argument("--population", type=int_in(4, 10**5), default=100,
                            help="programs per generation (4 to 100,000: each holds its values on the sample grid)")
            sp.add_argument("--seed", type=seed_arg, default=0, help="random seed, 0 to 2^63-1")
            sp.add_argument("--ops", default="add,sub,mul,div", help="operations, e.g. add,sub,mul,div,sqrt,fma")
            sp.add_argument("--no-classical-seeds", action="store_true", help="start from random programs only")
            sp.add_argument("--allow-inf", action="store_true",
                            help="accept programs finite only through IEEE infinities (c/0 = inf, then d/inf = 0; "
                                 "default: refused, in the search as in the front)")
            sp.add_argument("--checkpoint", metavar="FILE",
                            help="checkpoint file (resumes if it exists; default: none)")
            sp.add_argument("--float32-exhaustive", action="store_true", help="check every float32 of the interval")
            sp.add_argument("--db", metavar="PATH",
                            help="store the Pareto front in this database (default: not stored)")
            sp.add_argument("--quiet", action="store_true", help="no progress bar")
        sp.set_defaults(handler=handler)
    _export_parser(prog_commands)


def _export_parser(prog_commands) -> None:
    """``programs export``: a stored program as code."""
    from discovery.programs.export import LANGUAGES

    text = ("write a stored program as code (c, python, numpy, numba, sympy, latex) performing exactly its "
            "operations, with its target, interval, proven bound and operation count as a comment")
    ex = prog_commands.add_parser("export", help=text, description=text)
    ex.add_argument("id", nargs="?", type=int_in(1, 2**62),
                    help="stored program id (see discovery query --kind program; default: chosen by --target)")
    ex.add_argument("--db", required=True, metavar="PATH", help="the database holding the program")
    ex.add_argument("--target", help="export the most accurate program for this target (with --ops; default: by id)")
    ex.add_argument("--interval", type=finite, nargs=2, metavar=("LO", "HI"),
                    help="with --target: only programs on this interval (default: any)")
    ex.add_argument("--ops", type=int_in(1, 64),
                    help="with --target: at most this many operations (1 to 64; default: any)")
    ex.add_argument("--lang", choices=LANGUAGES, default="c", help="language of the code")
    ex.add_argument("--name", default="f", help="function name")
    ex.add_argument("--c-type", choices=("double", "float"), default="double",
                    help="C only: floating-point type (float uses fmaf, sqrtf, float32 constants)")
    ex.add_argument("--allow-inf", action="store_true",
                    help="export programs finite only through IEEE infinities, with an explicit limit branch at "
                         "each such point (default: refused)")
    ex.add_argument("--out", metavar="FILE", help="file to write (default: standard output)")
    ex.set_defaults(handler=program_cli.programs_export)
def _cmf_parsers(commands) -> None:
    """The ``cmf`` commands: list, walk, unify (conservative matrix fields)."""
    cmf = commands.add_parser(
        "cmf", help="conservative matrix fields: list them, walk a trajectory, unify stored formulas with trajectories",
        description="Conservative matrix fields (CMFs): matrices M_1(x), ..., M_d(x) over Z^d whose products along "
        "any lattice path agree, so that every trajectory gives a formula for the field's constant.")
    cmf_commands = cmf.add_subparsers(dest="cmf_command", required=True, metavar="COMMAND")

    li = cmf_commands.add_parser(
        "list", help="the known fields: name, dimension, rank, constant, source",
        description="List the shipped conservative matrix fields (and those of --cmf-file): name, dimension, "
        "matrix rank, the constant and the published source.")
    li.add_argument("--cmf-file", help="also list the [[cmf]] tables of this TOML file (default: none)")
    li.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    li.set_defaults(handler=cmf_cli.cmf_list)

    wa = cmf_commands.add_parser(
        "walk", help="one trajectory: step matrix, PCF, exact walk value",
        description="Walk one trajectory of a field (a direction and a start point): its step matrix, the "
        "equivalent PCF and the value of the exact product after --depth steps.")
    wa.add_argument("name", help="a known field (see 'discovery cmf list') or one of --cmf-file")
    wa.add_argument("--direction", required=True, help="integer direction, comma-separated, e.g. 1,1")
    wa.add_argument("--start", required=True, help="start point, comma-separated integers or fractions, e.g. 1,1/2")
    wa.add_argument("--depth", type=int_in(0, 100_000), default=1000,
                    help="steps of the walk (0 to 100,000, default 1000)")
    wa.add_argument("--digits", type=int_in(1, 10_000), default=30,
                    help="digits of the value printed (1 to 10,000, default 30)")
    wa.add_argument("--cmf-file",
                    help="a TOML file of [[cmf]] tables to take NAME from (default: the known fields only)")
    wa.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    wa.set_defaults(handler=cmf_cli.cmf_walk)

    un = cmf_commands.add_parser(
        "unify",
        help="place stored PCFs on CMF trajectories (equivalence, even/odd parts, or an exact gauge)",
        description="For each stored PCF, find a trajectory of a known field in a box whose PCF is the same formula "
        "(equivalence transforms, tails, even/odd parts) or is related to it by a polynomial gauge "
        "C1(n) U(n+1) = lambda(n) U(n) C2(n); every map is checked on exact convergents.")
    un.add_argument("--db", required=True, help="the formula database (read only)")
    un.add_argument("--constant",
                    help="only formulas identified as this constant (a catalog name, e.g. zeta3; default: all)")
    un.add_argument("--all", action="store_true", help="unidentified PCFs too (default: identified ones only)")
    un.add_argument("--limit", type=positive_int, help="at most this many formulas (default: all)")
    un.add_argument("--cmf", action="append",
                    help="a known field to use (repeat for several; default: the fields of the formulas' constants, "
                    "else all)")
    un.add_argument("--cmf-file", action="append",
                    help="a TOML file of [[cmf]] tables to use too (repeatable; default: none)")
    un.add_argument("--max-step", type=int_in(1, 8), default=2,
                    help="direction coordinates in [-S, S] (1 to 8, default 2)")
    un.add_argument("--max-start", type=int_in(0, 20), default=2,
                    help="start coordinates in [0, S] (0 to 20, default 2)")
    un.add_argument("--denominators", default="1,2",
                    help="denominators of the start coordinates, comma-separated (each 1 to 6, default 1,2)")
    un.add_argument("--max-trajectories", type=int_in(1, 100_000), default=2000,
                    help="trajectories per field, simplest first (1 to 100,000, default 2000)")
    un.add_argument("--gauge-degree", type=int_in(0, 12), default=6,
                    help="largest degree of the gauge U(n) (0 to 12, default 6)")
    un.add_argument("--gauge-shift", type=int_in(0, 10), default=2, help="tails tried for a gauge (0 to 10, default 2)")
    un.add_argument("--gauge-candidates", type=int_in(0, 10_000), default=20,
                    help="trajectory classes tried for a gauge per formula (0 to 10,000, default 20; 0: no gauge)")
    un.add_argument("--no-store", action="store_true",
                    help="only print the placements (default: also store them, replacing earlier ones)")
    un.add_argument("--format", choices=("table", "json"), default="table", help="output format (default table)")
    un.set_defaults(handler=cmf_cli.cmf_unify)
