"""``relax run``: one optimization of a registered problem.

Where f runs (``--workers``, ``--scheduler``), what a failed evaluation does
(``--invalid``), checkpoints (``--checkpoint``, ``--resume``) and Ctrl-C: SIGINT and
SIGTERM stop the run between two iterations, print the best result so far (JSON with
``--json``), write the history file and the checkpoint if asked, and exit with status 130.
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import replace

import click

from relax.cli.build import (
    build_model,
    build_problem,
    check_method,
    default_target,
    draw_seed,
    method_from,
    parse_problem_options,
    resolved,
)
from relax.cli.errors import UserError, require, user_errors
from relax.cli.options import (
    budget_options,
    checkpoint_options,
    direction_options,
    execution_options,
    explicit,
    figure_options,
    model_options,
    problem_options,
    step_options,
)
from relax.cli.outputs import as_json_value, check_file, figure_path, format_x, write_history
from relax.cli.progress import Progress, gap_text

#: Options that define a run: recorded in its checkpoint, not to be changed on --resume.
RUN_OPTIONS = ("dim", "seed", "problem_options", "maxfev", "maxiter", "target", "invalid",
               "model_kind", "sigma0", "graph", "popsize", "step", "epsilon", "shaping",
               "gradient", "param", "restarts", "restart")
#: Exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report).
INTERRUPTED = 130


@click.command()
@click.argument("problem", required=False)
@click.option("--dim", "-n", type=click.IntRange(1), default=None,
              help="Dimension n (required unless the problem reads it from a file).")
@direction_options
@click.option("--seed", type=click.IntRange(0), default=None,
              help="Seed of the run and of the problem instance [default: drawn from the OS, "
                   "printed and recorded].")
@model_options()
@step_options
@budget_options("10^4 * dim")
@problem_options
@execution_options
@click.option("--device", type=click.Choice(["cpu", "gpu"]), default="cpu", show_default=True,
              help="Where the sample, the estimates and the search state live (gpu: cupy, "
                   "pip install \"relax[gpu]\"; the problem's f runs on numpy rows).")
@checkpoint_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.option("--history", type=click.Path(dir_okay=False), default=None,
              help="Write the per-iteration history to this CSV file.")
@figure_options("the run's figure (f - f_opt, step size, axis ratios, mean)")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@user_errors
def run(problem, resume, **args):
    """Minimize PROBLEM (see `relax list`) and report the best point found.

    \b
    relax run rosenbrock --dim 10 --seed 1
    relax run onemax -n 100 --model ising --graph chain --json
    relax run sphere -n 20 --history h.csv --plot run.pdf
    relax run rastrigin -n 10 --workers 4 --checkpoint run.ckpt --checkpoint-every 50
    relax run --resume run.ckpt
    relax run sphere -n 1000 --popsize 100000 --maxiter 10 --device gpu
    """
    saved = None
    if resume is not None:
        saved, problem, args = resumed(resume, problem, args)
    elif problem is None:
        raise UserError("missing argument PROBLEM (see `relax list`), or --resume FILE")
    if args["seed"] is None:
        args.update(seed=draw_seed(), seed_drawn=True)
    args.setdefault("seed_drawn", False)
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop as Ctrl-C
    try:
        execute(problem, args, saved)
    finally:
        signal.signal(signal.SIGTERM, previous)


def resumed(path: str, problem: str | None, args: dict):
    """The checkpoint of ``--resume PATH`` and the problem and options it records, with
    the output and execution options given now in place of the recorded ones."""
    from relax.checkpoint import read

    saved = read(path)
    recorded = saved.context.get("cli")
    if recorded is None:
        raise UserError(f"--resume: {path!r} was not written by `relax run --checkpoint` "
                        "(use relax.resume in Python for other checkpoints)")
    given = [name for name in RUN_OPTIONS if explicit(name)]
    if problem is not None or given:
        names = (["PROBLEM"] if problem is not None else []) + [
            "--" + n.replace("_", "-").replace("model-kind", "model")
            .replace("problem-options", "option") for n in given]
        raise UserError(f"--resume continues the run recorded in {path!r}; drop "
                        f"{', '.join(names)} (the run's options are in the checkpoint)")
    kept = {name: value for name, value in args.items() if explicit(name)}
    merged = {**recorded["args"], **kept}
    merged["checkpoint"] = args["checkpoint"] if explicit("checkpoint") else path
    merged.setdefault("device", "cpu")
    return saved, recorded["problem"], merged


def execute(problem: str, args: dict, saved) -> None:
    """Build the problem and the method, run (or continue) the optimization, report."""
    history_path = check_file(args["history"], "--history")
    figure = figure_path(args["plot"], args["fmt"])
    options = parse_problem_options(args["problem_options"])
    prob = build_problem(problem, args["dim"], args["seed"], options)
    method = method_from(args)
    if saved is None:
        check_method(method, prob.domain,
                     [k for k in ("sigma0", "graph", "restart") if explicit(k)],
                     repr(prob.name))
        check_execution(args)
    check_device(args["device"])
    if prob.domain == "real":
        method = replace(method, sigma0=prob.sigma0 if method.sigma0 is None else method.sigma0)
    model = build_model(prob, method)
    target = default_target(prob, args["target"])
    progress = Progress(f"{prob.name}[{prob.dim}]", prob.optimum,
                        quiet=args["quiet"] or args["as_json"])
    start = time.perf_counter()
    res, stopped = optimize(problem, prob, model, method, target, args, saved, progress)
    progress.close(res)
    record = {
        "problem": prob.name, "dim": prob.dim, "options": options, "seed": args["seed"],
        "seed_drawn": args["seed_drawn"], **method.record(prob.domain),
        **resolved(method, model), "maxfev": args["maxfev"], "maxiter": args["maxiter"],
        "target": target, "invalid": args["invalid"], "device": args["device"],
        "workers": args["workers"],
        "scheduler": args["scheduler"], "fun": res.fun, "x": res.x, "nfev": res.nfev,
        "nit": res.nit, "nfailed": res.get("nfailed", 0), "success": res.success,
        "message": res.message, "optimum": prob.optimum,
        "seconds": time.perf_counter() - start,
        **({"restarts_run": res.restarts} if "restarts" in res else {}),
    }
    if history_path is not None:
        write_history(res.history, history_path)
    if figure is not None and stopped is None:
        from relax.plot import run_figure

        run_figure(res, title=run_title(record), optimum=prob.optimum, path=figure,
                   dpi=args["dpi"])
    click.echo(json.dumps(as_json_value(record), indent=2) if args["as_json"]
               else run_text(record))
    finish(stopped)


def check_execution(args: dict) -> None:
    """Options of where f runs and of checkpoints that contradict each other."""
    if args["workers"] is not None and args["scheduler"] is not None:
        raise UserError("give --workers N (processes here) or --scheduler ADDRESS (a Dask "
                        "cluster), not both")
    if args["timeout"] is not None and args["workers"] is None and args["scheduler"] is None:
        raise UserError("--timeout needs --workers N or --scheduler ADDRESS (an evaluation "
                        "in this process cannot be stopped)")
    if args["checkpoint"] is None and args["checkpoint_every"] is not None:
        raise UserError("--checkpoint-every needs --checkpoint FILE")
    if args["checkpoint"] is not None and args["restarts"]:
        raise UserError("--checkpoint cannot be combined with --restarts (a checkpoint holds "
                        "one run, not the restart schedule)")
    if args["checkpoint"] is not None:
        check_file(args["checkpoint"], "--checkpoint")


def check_device(device: str) -> None:
    """--device gpu where cupy or a CUDA device is missing: a one-line error."""
    if device == "gpu":
        from relax.backend import DeviceUnavailable, cupy

        try:
            cupy()
        except DeviceUnavailable as e:
            raise UserError(f"--device gpu: {e}") from None


def optimize(problem, prob, model, method, target, args, saved, progress):
    """The result of the run (or of its continuation from ``saved``), and the exception
    that stopped it early (:class:`~relax.interrupts.Interrupted` or
    :class:`~relax.evaluate.EvaluationError`; None when it ended by itself)."""
    from relax.evaluate import EvaluationError
    from relax.interrupts import Interrupted
    from relax.minimize import minimize, run

    client = dask_client(args["scheduler"])
    where = {"workers": args["workers"], "timeout": args["timeout"],
             "executor": None if client is None else client.get_executor()}
    saver = checkpointer({"problem": problem, "args": dict(args)}, args)
    try:
        if saved is not None:
            return run(saved.optimizer.to(args["device"]), prob.f, vectorized=True,
                       callback=progress, checkpoint=saver, device_f=False, **where), None
        return minimize(prob.f, model, **method.settings(), maxfev=args["maxfev"],
                        maxiter=args["maxiter"], target=target, seed=args["seed"],
                        vectorized=True, invalid=args["invalid"], callback=progress,
                        checkpoint=saver, device=args["device"], device_f=False,
                        **where), None
    except (Interrupted, EvaluationError) as stop:
        if stop.result is None:
            raise
        return stop.result, stop
    finally:
        if client is not None:
            client.close()


def checkpointer(record: dict, args: dict):
    """The :class:`~relax.checkpoint.Checkpointer` of ``--checkpoint`` (None without); its
    context ``record`` (the problem and every option) is what ``--resume`` rebuilds the
    run from."""
    if args["checkpoint"] is None:
        return None
    from relax.checkpoint import Checkpointer

    return Checkpointer(args["checkpoint"], args["checkpoint_every"], cli=record)


def dask_client(address: str | None):
    """A Dask client connected to ``--scheduler ADDRESS`` (None without)."""
    if address is None:
        return None
    distributed = require("distributed", "distributed", "--scheduler")
    try:
        return distributed.Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as e:
        raise UserError(f"--scheduler: cannot connect to {address!r}: {e}") from None


def finish(stopped) -> None:
    """Report an early stop on stderr and exit with its status (130 after SIGINT/SIGTERM,
    1 after a failed evaluation under --invalid raise)."""
    if stopped is None:
        return
    from relax.interrupts import Interrupted

    if isinstance(stopped, Interrupted):
        click.echo(f"interrupted by {stopped.name}: the best result so far is above",
                   err=True)
        raise click.exceptions.Exit(INTERRUPTED)
    click.echo(f"error: {stopped} (the best result so far is above)", err=True)
    raise click.exceptions.Exit(1)


def run_title(record: dict) -> str:
    """Figure title: problem, dimension, model, direction and seed."""
    return (f"{record['problem']}, n = {record['dim']}: {record['model']} model, "
            f"{record['gradient']} gradient in {record['chart']}, seed {record['seed']}")


def run_text(record: dict) -> str:
    """The text report: stopping message, best f, evaluations, x and the seed."""
    seed = f"seed {record['seed']}" + (
        f" (drawn; repeat with --seed {record['seed']})" if record["seed_drawn"] else "")
    known = ("" if record["optimum"] is None
             else f"; known optimum {record['optimum']:.10g}")
    failed = f", {record['nfailed']} failed" if record["nfailed"] else ""
    x = "none (no valid evaluation)" if record["x"] is None else format_x(record["x"])
    return "\n".join([
        record["message"],
        f"{gap_text(record['fun'], record['optimum'])} after {record['nfev']} evaluations "
        f"({record['nit']} iterations{failed}, {record['seconds']:.2f} s){known}",
        f"x = {x}",
        f"{record['model']} model, {record['gradient']} gradient in {record['chart']}, {seed}",
    ])
