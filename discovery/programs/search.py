"""The program search loop: evolving programs that approximate a target.

Objectives (both minimised): log10 of the maximum error on the 1024-point training grid, and the
operation count; programs over ``max_ops`` are infeasible.  Children come from the mutation
operators of :mod:`discovery.programs.mutations` and the crossover of
:mod:`discovery.programs.moves`, with repeated work merged; the loop is the genome-agnostic
NSGA-II of :mod:`discovery.evolution`.  Every child is judged after a minimax tuning of its
constants (:func:`discovery.programs.tuning.tune_minimax`), the most promising ones after variable
projection (:func:`discovery.programs.projection.project`): a structure is worth what its best
constants can do.  Niches by operation count and restarts with fresh programs when nothing
improves keep the population diverse.  Every few generations the archive's front is tuned again,
longer, by CMA-ES and then by projection on the full training grid, and its structural neighbours
(:func:`discovery.programs.moves.front_neighbours`) join with their constants solved.  The search
starts from the classical approximations that fit
(:func:`discovery.programs.baselines.classical_programs`) and ends with a front judged on data it
did not choose it by (:mod:`discovery.programs.fronts`).

Under the ``ulp32`` error mode children's constants are tuned in float64 relative error, the
front's then in float32 itself (:func:`discovery.programs.tuning32.tune_float32`: float32 constants
around the float64 optimum, judged by the max ULP error on a dense float32 set); the first
objective is log10 of 1 + the max ULP error of the program run in float32 on the target's float32
training grid, plus a tie-break under one half that prefers, among programs equally many ULPs
off, the one closer to the exact values (:func:`discovery.programs.float32.population_ulp_scores`),
and the final front is tuned for float32 once
more, with every float of the interval's top binades checked (``refine``, too slow for the loop),
and then judged on every float32 of the interval.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from discovery.checkpoints import EvolutionState
from discovery.evolution import NSGA2
from discovery.programs.baselines import classical_programs
from discovery.programs.float32 import population_ulp_scores
from discovery.programs.fronts import judged_front
from discovery.programs.graph import BASIC_OPS, Program, random_program
from discovery.programs.moves import crossover, front_neighbours
from discovery.programs.mutations import mutate
from discovery.programs.ops import check_ops, uses_only
from discovery.programs.precise import polish_precise, precise_errors
from discovery.programs.projection import project, rational_degrees
from discovery.programs.targets import Target
from discovery.programs.tuning32 import dense_float32, tune_float32
from discovery.programs.tuning import WORST_LOG_ERROR, log_errors, output_squarings, tune_many, tune_minimax
from discovery.programs.verify import FINITE, THROUGH_INFINITY, as_run, finiteness

# Neighbours of the front solved together between looks at the deadline.
_EXPLORE_GROUP = 16
# Under ulp32, the final front's float32 tuning checks every float of the interval's top binades
# this many times (:func:`~discovery.programs.tuning32.tune_float32`'s ``refine``): the dense set
# alone kept 2^x's x(Q^2 + e) + 1 at 2 ULP where its constants reach 1.  Too slow for every
# front tuning of the loop, once at the end it costs a few seconds per program.
CLOSING_REFINE = 3
# log10 of the error below which programs are ranked and polished in double-double arithmetic.
_PRECISE_BELOW = -11.0


def _announce(stage, name: str) -> None:
    """Tell a ``stage`` callback (if any) which closing stage begins."""
    if stage is not None:
        stage(name)


@dataclass
class SearchResult:
    """What a program search found.

    Attributes
    ----------
    best : dict
        Operation count -> (Program, training max error), the archive's Pareto front judged on
        the 10,000-point validation grid (a costlier program must be more accurate there).
    generations, evaluations : int
    seconds : float
    validation : dict
        Operation count -> max error of ``best[cost]`` on the validation grid.
    float32 : dict, optional
        Under ``ulp32``: operation count -> the exhaustive float32 check of ``best[cost]``
        (:func:`discovery.programs.verify.float32_ulp_errors`), which judged the front in place of
        the validation grid; training errors in ``best`` and ``validation`` are then in ULPs.
    """

    best: dict
    generations: int
    evaluations: int
    seconds: float
    validation: dict
    float32: dict | None = None


class ProgramSearch:
    """NSGA-II over (max error, cost) with minimax tuning of every child and of the front.

    Parameters
    ----------
    target : Target
    max_ops : int
        Programs costing more are infeasible.
    ops : sequence of str
        Operations mutations may use (default +, -, ×, ÷).
    population_size : int
    seed : int
    tune_every : int
        Generations between tunings of the archive's front.
    tune_evals : int
        CMA-ES evaluation budget per program of the front.
    child_rounds : int
        Lawson reweightings in the minimax tuning every new program gets.
    checkpoint : path, optional
        JSON checkpoint of the search (:class:`~discovery.evolution.NSGA2`); a search given an
        existing one resumes from it, and ends as the uninterrupted search would.
    checkpoint_every : int
        Generations between checkpoints.
    projected : int
        Children per generation, the most promising (closest to the archive's best at their
        operation count), whose exactly solvable constants are solved
        (:func:`~discovery.programs.projection.project`).
    niche_cap : int, optional
        At most this many programs of one operation count in the population (default: an equal
        share of the population per count, twice over), so every count keeps evolving.
    restart_after : int
        Generations without a better program at any operation count after which a quarter of
        the population's worth of fresh random programs joins.
    finite_only : bool
        Refuse programs whose result is finite only through IEEE infinities (c/0 = inf, then
        d/inf = 0) anywhere the final check looks (:func:`~discovery.programs.verify.finiteness`):
        they get the worst error, so they steer nothing, and stay out of the final front.
        Programs whose result is not finite somewhere there (inf/inf at a point no grid holds)
        are refused either way.
    """

    def __init__(
        self,
        target: Target,
        max_ops: int = 10,
        ops: Sequence[str] = BASIC_OPS,
        population_size: int = 200,
        seed: int = 0,
        tune_every: int = 10,
        tune_evals: int = 500,
        child_rounds: int = 30,
        checkpoint=None,
        checkpoint_every: int = 10,
        projected: int = 16,
        niche_cap: int | None = None,
        restart_after: int = 30,
        finite_only: bool = False,
    ):
        ops = check_ops(ops)
        if max_ops < 1:
            raise ValueError(f"max_ops must be positive, got {max_ops}")
        self.target, self.max_ops, self.ops = target, max_ops, tuple(ops)
        self.seed, self.tune_every, self.tune_evals = seed, tune_every, tune_evals
        self.child_rounds, self.projected, self.restart_after = child_rounds, projected, restart_after
        self.finite_only = finite_only
        self.tuned: set = set()
        self._dense = None
        cap = niche_cap if niche_cap is not None else max(2, 2 * population_size // max_ops)
        self.engine = NSGA2(
            self.evaluate, lambda p, rng: mutate(p, rng, self.ops), lambda p: (p.key(), p.consts),
            archive_key=lambda f: int(f[1]), population_size=population_size, seed=seed,
            checkpoint=checkpoint, checkpoint_every=checkpoint_every, encode=Program.to_json,
            decode=Program.from_json, crossover=crossover, crossover_rate=0.2,
            niche=lambda p: p.cost, niche_cap=cap,
        )

    def evaluate(self, programs: list, project_all: bool = False) -> np.ndarray:
        """Objective rows (log10 training max error, cost); over-budget programs get the worst error.
        Under ``ulp32`` the error is log10 of 1 + the max ULP error in float32 on the float32 grid,
        with :func:`~discovery.programs.float32.population_ulp_scores`' tie-break.

        Every program first has its constants tuned (:func:`tune_minimax`, ``child_rounds``),
        and keeps the tuned constants: a new structure is judged by what it can do, not by the
        constants it inherited.  The most promising ones (all with ``project_all``) then have
        their exactly solvable constants solved (:func:`~discovery.programs.projection.project`).
        """
        costs = np.array([p.cost for p in programs], dtype=float)
        # Immigrants and checkpoints may carry programs of another operation set: not feasible.
        feasible = [i for i, c in enumerate(costs) if c <= self.max_ops and uses_only(programs[i], self.ops)]
        errs = np.full(len(programs), WORST_LOG_ERROR)
        if feasible:
            tuned = tune_minimax([programs[i] for i in feasible], self.target, outer=self.child_rounds)
            for i, (prog, err) in zip(feasible, tuned):
                programs[i] = prog
                errs[i] = log_errors(np.array([err]))[0]
            chosen = feasible if project_all else self._promising(programs, feasible, errs, costs)
            if chosen:
                # New structures from the front's neighbourhood get the thorough rational fits.
                solved = project([programs[i] for i in chosen], self.target, outer=self.child_rounds,
                                 tuned=[(programs[i], 10.0 ** errs[i]) for i in chosen], thorough=project_all)
                for i, (prog, err) in zip(chosen, solved):
                    programs[i] = prog
                    errs[i] = log_errors(np.array([err]))[0]
            if self.target.error == "ulp32":
                errs[feasible] = log_errors(population_ulp_scores([programs[i] for i in feasible],
                                                                  *self.target.float32_training,
                                                                  self.target.float32_exact))
            else:
                # Below ~1e-11 float64 rounding is a visible part of the error: rank by the formula's.
                fine = [i for i in feasible if errs[i] < _PRECISE_BELOW]
                if fine:
                    errs[fine] = log_errors(precise_errors([programs[i] for i in fine], self.target))
            # After tuning: the constants decide whether a divisor vanishes.  Checked at the
            # points the final front is refused at (exact zeros of the divisors included), so no
            # program the end would refuse steers the search.
            judged = [i for i in feasible if errs[i] < WORST_LOG_ERROR]
            refused = ~self._admissible([programs[i] for i in judged])
            errs[[i for i, bad in zip(judged, refused) if bad]] = WORST_LOG_ERROR
        return np.column_stack([errs, costs])

    def _admissible(self, programs: list) -> np.ndarray:
        """Which programs the search may keep: finite at every point of the final check, or
        finite there only through infinities where the search allows them."""
        codes = finiteness(programs, self.target, settle=not self.finite_only)
        return (codes == FINITE) | ((codes == THROUGH_INFINITY) & (not self.finite_only))

    def _promising(self, programs: list, feasible: list, errs: np.ndarray, costs: np.ndarray) -> list:
        """Up to ``projected`` feasible programs: half those whose errors are closest to (or
        below) the archive's best at their operation count, the rest new structures with a
        rational block that are not (their constants, inherited or random, may be far from
        what the structure can do)."""
        # Under ulp32 the archive holds ULP errors and errs float64 ones: the lowest errors go.
        archive = self.engine.state.archive if self.engine.state is not None and self.target.error != "ulp32" else {}
        gap = [(errs[i] - (archive[int(costs[i])][1][0] if int(costs[i]) in archive else WORST_LOG_ERROR), i)
               for i in feasible if errs[i] < WORST_LOG_ERROR]
        chosen = [i for _, i in sorted(gap)[: self.projected // 2]]
        for i in feasible:
            if len(chosen) >= self.projected:
                break
            if i not in chosen and rational_degrees(programs[i], output_squarings(programs[i])[1]) is not None:
                chosen.append(i)
        return chosen

    def seeds(self, count: int, classical: bool = True) -> list:
        """Starting programs: the classical minimax approximations that fit in ``max_ops``
        (with ``classical``), filled up with random programs of 1..max_ops operations."""
        out = classical_programs(self.target, self.max_ops, self.ops) if classical else []
        rng = np.random.default_rng(self.seed)
        while len(out) < count:
            out.append(random_program(rng, int(rng.integers(1, self.max_ops + 1)), int(rng.integers(1, 5)), self.ops))
        return out

    def _tune_front(self, state: EvolutionState) -> None:
        todo = []
        for cost, (prog, f) in sorted(state.archive.items()):
            key = (prog.key(), prog.consts)
            if cost <= self.max_ops and f[0] < WORST_LOG_ERROR and key not in self.tuned:
                self.tuned.add(key)
                todo.append(prog)
        if not todo:
            return
        tuned = [p for p, _ in tune_many(todo, self.target, self.tune_evals, self.seed + state.generation)]
        new = [polish_precise(p, self.target)[0] if self.target.error != "ulp32" and e < 10.0 ** _PRECISE_BELOW else p
               for p, e in project(tuned, self.target, outer=60, thorough=True)]
        if self.target.error == "ulp32":
            # The float64 optimum rounded is not the float32 one: search the float32 constants.
            new = [self._tune32(p) for p in new]
        for p in new:
            self.tuned.add((p.key(), p.consts))
        # Checkpointed with the state: a resumed search must not tune the same programs again.
        state.extra["tuned"] = sorted(self.tuned)
        if new:
            self.engine.join(new, self.evaluate(new))

    def _tune32(self, program: Program, refine: int = 0) -> Program:
        """The program with float32-tuned constants (finite float32 values even where its own
        lie beyond float32's range)."""
        return tune_float32(program, self.target, self._dense32(), refine=refine)[0]

    def _dense32(self):
        """The dense float32 set :func:`~discovery.programs.tuning32.tune_float32` steers by."""
        if self._dense is None:
            self._dense = dense_float32(self.target)
        return self._dense

    def _explore_front(self, state: EvolutionState, deadline: float | None = None) -> None:
        """The structural neighbours (:func:`~discovery.programs.moves.front_neighbours`) of every
        front program not explored yet join, each with its constants solved; those not solved
        by ``deadline`` (a ``time.time()``) are left out."""
        explored = set(state.extra.get("explored", ()))
        centre = 0.5 * (self.target.interval[0] + self.target.interval[1])
        neighbours, seen = [], {self.engine.key(p) for p in state.population}
        for cost, (prog, f) in sorted(state.archive.items()):
            mark = str(prog.key())
            if cost >= self.max_ops or f[0] >= WORST_LOG_ERROR or mark in explored:
                continue
            explored.add(mark)
            for child in front_neighbours(prog, self.ops, centre):
                child = child.deduplicated()
                key = self.engine.key(child)
                if child.cost <= self.max_ops and key not in seen:
                    seen.add(key)
                    neighbours.append(child)
        state.extra["explored"] = sorted(explored)
        # In groups, so a deadline stops it between groups: one exploration of a long front
        # fits hundreds of neighbours, minutes of work.
        for start in range(0, len(neighbours), _EXPLORE_GROUP):
            if deadline is not None and time.time() >= deadline:
                break
            group = neighbours[start:start + _EXPLORE_GROUP]
            state.evaluations += len(group)
            self.engine.join(group, self.evaluate(group, project_all=True))

    def _restart_if_stale(self, state: EvolutionState) -> None:
        """Fresh random programs join when no operation count has improved for a while."""
        front = sorted((int(c), float(f[0])) for c, (_, f) in state.archive.items())
        if front != state.extra.get("front"):
            state.extra["front"], state.extra["improved"] = front, state.generation
        elif state.generation - state.extra.get("improved", 0) >= self.restart_after:
            rng = np.random.default_rng([self.seed, state.generation])
            fresh = [random_program(rng, int(rng.integers(1, self.max_ops + 1)), int(rng.integers(1, 5)), self.ops)
                     for _ in range(max(1, self.engine.population_size // 4))]
            self.engine.immigrate(fresh)
            state.extra["improved"] = state.generation
            state.extra["restarts"] = state.extra.get("restarts", 0) + 1

    def run(self, initial: Sequence[Program] | None = None, generations: int | None = None,
            seconds: float | None = None, progress=None, exhaustive: bool = True, stage=None) -> SearchResult:
        """Evolve from ``initial`` (default: :meth:`seeds`), or on from the checkpoint if there is
        one, for a number of generations or seconds.

        ``progress(state)`` is called after every generation, ``stage(name)`` (optional) as each
        closing stage begins.  Under ``ulp32`` the front is judged on every float32 of the
        interval unless ``exhaustive`` is false (see :func:`~discovery.programs.fronts.ulp32_front`),
        after a last float32 tuning of its programs that checks every float of the interval's top
        binades (:meth:`retune32`; with ``exhaustive`` only: an island's epoch front is no
        final one).

        ``seconds`` covers the evolution and the closing tunings: generations stop early enough
        for the closing tuning of the front (as long as the longest tuning so far took, the
        first one of the starting front, run before the first generation) and,
        under ``ulp32``, for the last float32 tuning of a front of ``max_ops`` programs (one
        timed before the first generation).  The exhaustive judgement of the front is the
        caller's to reserve time for (:func:`discovery.campaign.programs.search_front` does).
        """
        if generations is None and seconds is None:
            raise ValueError("give generations or seconds")
        start = time.time()
        deadline = None if seconds is None else start + seconds
        if seconds is not None and seconds <= 0:
            generations = 0
        if self.engine.state is None:
            self.engine.start(list(initial) if initial else self.seeds(self.engine.population_size))
        self.tuned = set(self.engine.state.extra.get("tuned", ()))
        closing32 = self.target.error == "ulp32" and exhaustive
        # The longest front tuning so far and the last float32 tuning: what the closing stages may take.
        closing = [0.0, self.retune32_seconds(self.engine.state.population) if closing32 and deadline else 0.0]
        if deadline is not None:
            # Timed now, on the starting front (the whole of it in a new search), the closing
            # front tuning is kept time for even when no generation tunes the front (a short
            # budget, where it took a minute and a half of an ulp32 run's five).
            began = time.time()
            self._tune_front(self.engine.state)
            closing[0] = time.time() - began

        def callback(state):
            if state.generation % self.tune_every == 0:
                began = time.time()
                self._tune_front(state)
                closing[0] = max(closing[0], time.time() - began)
                self._explore_front(state, None if deadline is None else deadline - sum(closing))
            self._restart_if_stale(state)
            if progress is not None:
                progress(state)
            return deadline is not None and time.time() + sum(closing) >= deadline

        # Deadlines are the callback's to keep; the engine's own limit is a generation count.
        state = self.engine.run([], generations=generations if generations is not None else 2**62,
                                callback=callback)
        _announce(stage, "tuning the front")
        self._tune_front(state)
        best = {
            int(cost): (as_run(prog), 10.0 ** f[0])
            for cost, (prog, f) in sorted(state.archive.items())
            if cost <= self.max_ops and f[0] < WORST_LOG_ERROR
        }
        if best:
            kept = self._admissible([p for p, _ in best.values()])
            best = {c: pe for (c, pe), ok in zip(best.items(), kept) if ok}
        if closing32:
            _announce(stage, "float32 tuning on every float of the top binades")
            best = self.retune32(best, deadline)
            _announce(stage, "checking every float32")
        # Under ulp32 the archive's errors are 1 + max ULP error and a tie-break under one half.
        ulp = self.target.error == "ulp32"
        candidates = ((c, p, round(e - 1) if ulp else e) for c, (p, e) in best.items())
        front, validation, checks = judged_front(candidates, self.target, exhaustive)
        return SearchResult(front, state.generation, state.evaluations, time.time() - start, validation, checks)

    def retune32(self, best: dict, deadline: float | None = None) -> dict:
        """The closing float32 tuning of a front: every program of ``best`` (operation count ->
        (program, 1 + training max ULP error)) tuned again for float32, with every float of the
        interval's top binades checked :data:`CLOSING_REFINE` times, the cheapest programs first;
        those not reached by ``deadline`` (a ``time.time()``) stay as they are, and so does a
        program the tuning would make finite only through infinities where the search refuses
        them.

        Returns
        -------
        dict
            The same operation counts -> (program, 1 + its training max ULP error and the
            tie-break of :func:`~discovery.programs.float32.population_ulp_scores`).
        """
        out = dict(best)
        for cost, (prog, _) in sorted(best.items()):
            if deadline is not None and time.time() >= deadline:
                break
            tuned = self._tune32(prog, refine=CLOSING_REFINE)
            if not self._admissible([tuned])[0]:
                continue
            out[cost] = (tuned, float(population_ulp_scores([tuned], *self.target.float32_training,
                                                            self.target.float32_exact)[0]))
        return out

    def retune32_seconds(self, population) -> float:
        """Seconds to keep for :meth:`retune32` of a front of up to ``max_ops`` programs: one
        such tuning of the population's costliest feasible program, timed, per operation count,
        and a fifth more."""
        feasible = [p for p in population if p.cost <= self.max_ops and uses_only(p, self.ops)]
        if not feasible:
            return 0.0
        began = time.time()
        self._tune32(max(feasible, key=lambda p: p.cost), refine=CLOSING_REFINE)
        return 1.2 * (time.time() - began) * self.max_ops
