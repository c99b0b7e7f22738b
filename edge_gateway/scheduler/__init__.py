"""Scheduler of the edge gateway: spray jobs from many firms onto cells (OR-tools CP-SAT).

Public API::

    plan(problem)                      -> Plan       optimise from scratch
    replan(problem, plan, now, events) -> (Problem, Plan)   frozen started tasks, warm start
    promise_date(problem, job)         -> Promise    capable-to-promise date with its proof
    explain(problem, plan, job_id)     -> Explanation
    fifo_plan / edd_plan               -> Plan       dispatch baselines
    solve_upmsp(instance, time_limit)  -> UpmspResult   the public benchmark problem
"""

from edge_gateway.scheduler.baselines import edd_plan, fifo_plan
from edge_gateway.scheduler.explain import Explanation, explain
from edge_gateway.scheduler.gantt import save_gantt
from edge_gateway.scheduler.lns import UpmspResult, solve_upmsp
from edge_gateway.scheduler.model import (
    Booking,
    Cell,
    Changeover,
    Job,
    Problem,
    Weights,
    Window,
    compile_problem,
    load_problem,
    problem_from_dict,
    validate,
)
from edge_gateway.scheduler.plans import Figures, Plan, Slot, hard_violations
from edge_gateway.scheduler.promise import Promise, promise_date
from edge_gateway.scheduler.replan import Cancel, CellFault, JobFinished, NewJob, replan
from edge_gateway.scheduler.solver import InfeasiblePlanError, plan, solve_plan
from edge_gateway.scheduler.upmsp import (
    UpmspInstance,
    machine_loads,
    makespan,
    parse_upmsp,
    read_solution,
    read_upmsp,
)
from edge_gateway.scheduler.workload import generate_workload

__all__ = [
    "Booking",
    "Cancel",
    "Cell",
    "CellFault",
    "Changeover",
    "Explanation",
    "Figures",
    "InfeasiblePlanError",
    "Job",
    "JobFinished",
    "NewJob",
    "Plan",
    "Problem",
    "Promise",
    "Slot",
    "UpmspInstance",
    "UpmspResult",
    "Weights",
    "Window",
    "compile_problem",
    "edd_plan",
    "explain",
    "fifo_plan",
    "generate_workload",
    "hard_violations",
    "load_problem",
    "machine_loads",
    "makespan",
    "parse_upmsp",
    "plan",
    "problem_from_dict",
    "promise_date",
    "read_solution",
    "read_upmsp",
    "replan",
    "save_gantt",
    "solve_plan",
    "solve_upmsp",
    "validate",
]
