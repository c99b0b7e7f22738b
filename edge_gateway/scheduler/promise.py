"""Capable-to-promise: the earliest date a quoted job can be promised.

Promises already given are the jobs' ``deadline_s``: hard. The quoted job is planned with
its due date at its release and an overriding weight, so the search pulls its completion as
early as the hard deadlines of the other jobs allow (their soft due dates may give way). The
returned plan proves the date: it meets every deadline and completes the new job by it.
Once the firm accepts, the job enters the problem with ``deadline_s`` = the promise and the
next re-plan optimises with normal weights.
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_gateway.scheduler.model import Job, Problem, compile_problem
from edge_gateway.scheduler.plans import Decoder, Plan, as_index_sequences
from edge_gateway.scheduler.solver import solve_plan
from recipes.errors import InvalidInputError

#: weight of the quoted job relative to the heaviest job already in the problem
_QUOTE_WEIGHT = 1000


@dataclass
class Promise:
    job_id: str
    completion_s: int  # when the proving plan completes the job
    promise_s: int  # completion plus the safety margin
    plan: Plan  # a plan meeting every promise, the new one included


def promise_date(
    problem: Problem,
    job: Job,
    *,
    current: Plan | None = None,
    margin_s: int = 0,
    time_limit_s: float = 5.0,
    seed: int = 0,
    workers: int = 2,
) -> Promise:
    """Earliest completion of ``job`` that keeps every existing deadline (see module doc)."""
    if any(j.id == job.id for j in problem.jobs):
        raise InvalidInputError(f"jobs[{job.id}]", "duplicate job id")
    if margin_s < 0:
        raise InvalidInputError("margin_s", f"must be >= 0, got {margin_s}")
    heaviest = max([j.weight for j in problem.jobs] + [1])
    quote = job.model_copy(
        update={"due_s": job.release_s, "weight": _QUOTE_WEIGHT * heaviest, "deadline_s": None}
    )
    trial = problem.model_copy(deep=True)
    trial.jobs = [*trial.jobs, quote]
    comp = compile_problem(trial)
    warm = as_index_sequences(comp, current, skip_frozen=False) if current is not None else None
    proof = solve_plan(comp, time_limit_s=time_limit_s, seed=seed, warm_start=warm, workers=workers)
    completion = proof.job_completion_s()[job.id]
    promise = completion + margin_s
    # the plan as it will stand: the new job with its promise as a deadline, normal weight
    final = problem.model_copy(deep=True)
    final.jobs = [*final.jobs, job.model_copy(update={"deadline_s": promise})]
    fcomp = compile_problem(final)
    seqs = as_index_sequences(fcomp, proof, skip_frozen=False)
    dec = Decoder(fcomp)
    plan = Plan(dec.slots(seqs), dec.figures(seqs))
    return Promise(job.id, completion, promise, plan)
