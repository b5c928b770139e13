"""`rllib train`: runs an experiment through Ray Tune and prints where its results went."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any, Dict, List

import rllib_embed
from rllib_embed.cli import own_runs
from rllib_embed.cli.checks import check_experiment, trial_cpus
from rllib_embed.cli.errors import EXIT_FAILED, CLIError
from rllib_embed.cli.experiment import Experiment, experiment_from_args
from rllib_embed.cli.finite_metrics import last_finite
from rllib_embed.cli.quiet_logs import WORKER_SETUP, hold_back_notices
from rllib_embed.cli.run_state import (
    EXIT_INTERRUPTED, check_name_free_or_resuming, experiment_path, interrupted, print_interrupted, resume_checkpoint,
    saved_trials, trial_ends,
)

# Shown for each trial at the end (where the result has them), besides the stop keys.
SUMMARY_METRICS = ("training_iteration", "num_env_steps_sampled_lifetime", "time_total_s",
                   "env_runners/episode_return_mean", "env_runners/tasks/min_episode_return_mean",
                   "env_runners/tasks/min_success_mean")
TASKS_PREFIX = "env_runners/tasks/task_"


def train_command(args) -> int:
    experiment = experiment_from_args(args)
    rllib_embed.register()  # what needs the registry (algorithm and env names) from here on
    param_space = check_experiment(experiment)  # every input error surfaces here, before Ray
    path = experiment_path(experiment.name, args.storage_path)
    check_name_free_or_resuming(path, args.resume)
    if args.resume:
        check_trusted_to_resume(path, args)
    check_local_cpus(experiment, args)
    if not experiment.stop and not args.resume:
        print("rllib: no stop criteria (--stop or the file's stop:): training runs until Ctrl-C, which saves "
              "and prints the resume command", file=sys.stderr, flush=True)
    start_ray(args)
    results = run_experiment(experiment, param_space, args)
    ends = trial_ends(results)  # Tune's trial statuses: TERMINATED, ERROR, or left unfinished
    print_summary(results, ends=ends)
    if interrupted(ends):
        print_interrupted(ends, args.argv, results.experiment_path)
        return EXIT_INTERRUPTED
    return EXIT_FAILED if results.errors else 0


def stop_on_signals() -> None:
    """SIGTERM (`kill`, `timeout`, a batch scheduler's stop) and SIGHUP (the terminal closed, an
    ssh session dropped) end the run as Ctrl-C does: Tune saves the experiment state and the
    trials stop, and the summary and resume line are printed (after SIGHUP to a terminal that
    is gone, nowhere: its output is sent to /dev/null rather than failing). Without this the
    process dies at once (Ray's SIGTERM handler prints a stack dump; SIGHUP kills it silently)
    with no resume hint. Installed after ray.init, so it replaces Ray's handler in this (the
    driver) process only."""
    import signal
    import threading

    def stop(signum, frame):
        signal.raise_signal(signal.SIGINT)

    # Which of stdout / stderr are the terminal, asked now: once it has hung up, isatty() fails
    # (EIO) on them, and every write does too.
    terminal_fds = [fd for fd in (1, 2) if _isatty(fd)]

    def hang_up(signum, frame):
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in terminal_fds:
            try:
                os.dup2(devnull, fd)
            except OSError:
                pass
        stop(signum, frame)

    if threading.current_thread() is threading.main_thread():  # Python handlers: main thread only
        signal.signal(signal.SIGTERM, stop)
        if hasattr(signal, "SIGHUP"):  # not on Windows
            signal.signal(signal.SIGHUP, hang_up)


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


@contextlib.contextmanager
def ray_processes_shielded():
    """A context for starting a local Ray instance whose processes (GCS, raylet, workers) outlive
    the signals meant for the driver: a closing terminal sends SIGHUP to all of them, GNU
    `timeout`, `kill -- -PGID` and job schedulers send SIGTERM to the whole process group, and
    with the GCS gone the driver could not stop the trials and save the experiment state (it
    waited 60 s for the GCS, then exited 1 without the resume line). SIGHUP is ignored and
    SIGTERM blocked while Ray starts its processes, and both stay so in them (as Ray itself
    blocks SIGINT there); the driver's own handlers (`stop_on_signals`) are installed after
    ray.init, and `ray.shutdown` still ends the processes (SIGKILL after its 1 s grace)."""
    import signal
    import threading

    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        signal.signal(signal.SIGHUP, previous)


def check_local_cpus(experiment: Experiment, args) -> None:
    """A trial asking more CPUs than the local instance has would wait forever: refuse it."""
    if args.ray_address:
        return  # a cluster may autoscale
    have = args.num_cpus or os.cpu_count() or 1
    need = trial_cpus(experiment)
    if need > have:
        raise CLIError(f"one {experiment.algo} trial needs {need:g} CPUs (1 + num_env_runners + learners) but the "
                       f"local Ray instance has {have}; lower num_env_runners (e.g. --num-env-runners 0) or raise "
                       f"--num-cpus")


def start_ray(args) -> None:
    import ray

    level = logging.DEBUG if args.verbose >= 2 else logging.INFO if args.verbose == 1 else logging.WARNING
    quiet = {}
    if not args.verbose:
        hold_back_notices()
        quiet = {"runtime_env": WORKER_SETUP}
    if args.ray_address:
        _check_reachable(args.ray_address)
        try:
            ray.init(address=args.ray_address, logging_level=level, **quiet)  # join a running cluster
        except (ConnectionError, RuntimeError, ValueError) as e:
            cause = [line.strip() for line in str(e.__cause__ or "").splitlines() if line.strip()]
            why = f" ({cause[-1][:300]})" if cause else ""
            raise CLIError(f"--ray-address {args.ray_address}: cannot join the cluster: "
                           f"{' '.join(str(e).split())}{why}") from None
    else:
        # address="local": always a fresh instance, never another user's cluster on this machine.
        with ray_processes_shielded():
            ray.init(address="local", num_cpus=args.num_cpus, num_gpus=args.num_gpus,
                     object_store_memory=args.object_store_memory, include_dashboard=False, logging_level=level,
                     **quiet)
    stop_on_signals()  # after ray.init, whose handler it replaces (train and regress alike)


def _check_reachable(address: str) -> None:
    """A host:port nobody answers on would leave ray.init retrying for minutes: fail now."""
    import socket

    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not port.isdigit():
        return  # "auto", ray://..., left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as e:
        raise CLIError(f"--ray-address {address}: nothing answers there ({e}); the head node's address "
                       f"is printed by `ray start --head` (default port 6379)") from None


def run_experiment(experiment: Experiment, param_space: Dict[str, Any], args):
    """`tune.Tuner(...).fit()`: results, checkpoints and TensorBoard logs go where Tune puts them."""
    os.environ["RAY_AIR_NEW_OUTPUT"] = "0"  # Tune's CLIReporter, which takes our columns
    from ray import tune

    storage = os.path.abspath(os.path.expanduser(args.storage_path)) if args.storage_path else None
    # Tune snapshots the experiment state (each trial's latest checkpoint) at most every 10 s
    # by default; a run killed in between resumes from an older checkpoint. 0: after each step.
    os.environ.setdefault("TUNE_GLOBAL_CHECKPOINT_S", "0")
    if getattr(args, "resume", False):
        return resume_experiment(experiment, param_space, args)
    from rllib_embed.cli.stop_criteria import StopCriteria  # a Tune Stopper: Tune is loaded by now
    stopper = StopCriteria(experiment.stop) if experiment.stop else None  # also refuses an unknown key
    from ray.tune.utils.util import date_str
    name = experiment.name or f"{experiment.algo}_{date_str()}"  # Tune's own default, known before it starts
    own_runs.remember(experiment_path(name, args.storage_path))  # --resume of it needs no --trust-checkpoint
    tuner = tune.Tuner(
        experiment.algo,
        param_space=param_space,
        tune_config=tune.TuneConfig(num_samples=experiment.num_samples),
        run_config=tune.RunConfig(
            name=name,
            storage_path=storage,
            stop=stopper,
            verbose=min(3, 1 + args.verbose),
            progress_reporter=progress_reporter(experiment, experiment_path(name, args.storage_path)),
            checkpoint_config=tune.CheckpointConfig(
                checkpoint_frequency=experiment.checkpoint_freq,
                checkpoint_at_end=experiment.checkpoint_at_end,
                num_to_keep=args.keep_checkpoints_num,
            ),
        ),
    )
    results = tuner.fit()
    if stopper is not None and stopper.unknown:
        raise CLIError(f"{stopper.unknown} (stopped after the first result; results so far: {results.experiment_path})")
    return results


def check_trusted_to_resume(path: str, args) -> None:
    """One line, before Ray starts, where --resume would unpickle an experiment folder that this
    machine's `rllib train` did not start (Tune's saved state and the checkpoints are pickles)
    and --trust-checkpoint is not given."""
    if not (args.trust_checkpoint or own_runs.started_here(path)):
        raise CLIError(f"--resume: {path} was not started by `rllib train` on this machine (its record: "
                       f"{own_runs.record_path()}); resuming unpickles its files, which runs any code placed in "
                       f"them; if you trust where it came from, add --trust-checkpoint")


def resume_experiment(experiment: Experiment, param_space: Dict[str, Any], args):
    """`tune.Tuner.restore(...)`: unfinished and errored trials continue from their newest checkpoint."""
    from ray import tune

    path = experiment_path(experiment.name, args.storage_path)
    for trial in sorted(saved_trials(path).values(), key=lambda t: t.trial_id):
        checkpoint = resume_checkpoint(trial, trial.local_path)
        if checkpoint:
            print(f"resuming {os.path.basename(trial.local_path)} from {checkpoint}")
    tuner = tune.Tuner.restore(path, trainable=experiment.algo, param_space=param_space,
                               resume_unfinished=True, resume_errored=True)
    return tuner.fit()


def progress_reporter(experiment: Experiment, results_path: str):
    """Tune's progress table with the columns an RL run is read by, plus the stop keys, headed
    by the experiment folder (`progress_table.ProgressTable`)."""
    from rllib_embed.cli.progress_table import ProgressTable

    columns = {"training_iteration": "iter", "num_env_steps_sampled_lifetime": "env steps",
               "time_total_s": "time (s)", "env_runners/episode_return_mean": "return"}
    if experiment.algo == "EmbedPG":
        columns["env_runners/tasks/min_success_mean"] = "worst task success"
    for key in experiment.stop:
        columns.setdefault(key, key.rsplit("/", 1)[-1])
    return ProgressTable(results_path=results_path, metric_columns=columns, max_report_frequency=10,
                         max_column_length=24)


def flat_metrics(result) -> Dict[str, Any]:
    from ray.tune.utils import flatten_dict
    return flatten_dict(result.metrics or {}, delimiter="/")


def tensorboard_installed() -> bool:
    import importlib.util
    return importlib.util.find_spec("tensorboard") is not None


def print_summary(results, extra_keys: List[str] = (), ends=None) -> None:
    ends = trial_ends(results) if ends is None else ends
    print(f"\nResults: {results.experiment_path}")
    if tensorboard_installed():  # not installed by install.sh: point at it only where it runs
        print(f"TensorBoard: tensorboard --logdir {results.experiment_path}")
    for i, result in enumerate(results):
        metrics = flat_metrics(result)
        status = ends[i].label
        print(f"\ntrial {i} ({status}): {result.path}")
        if metrics.get("experiment_tag"):
            print(f"  variant      {metrics['experiment_tag']}")
        print(f"  checkpoint   {ends[i].checkpoint or '(none: it ended before one; --checkpoint-freq N keeps one every N iterations)'}")
        for key in dict.fromkeys([*SUMMARY_METRICS, *extra_keys]):
            if key in metrics:
                value, note = last_finite(result, metrics, key)  # NaN: no episode ended in the last iteration
                print(f"  {key:<44} {_fmt(value)} {note}".rstrip())
        tasks = _per_task(metrics)
        if tasks:
            print("  task  return    success")
            for task, stats in tasks.items():
                print(f"  {task:>4}  {_fmt(stats.get('episode_return_mean'), 8)}  {_fmt(stats.get('success_mean'), 7)}")
        if result.error:
            print(f"  error        {' '.join(str(result.error).split())[:500]}")


def _per_task(metrics: Dict[str, Any]) -> Dict[int, Dict[str, float]]:
    tasks: Dict[int, Dict[str, float]] = {}
    for key, value in metrics.items():
        if key.startswith(TASKS_PREFIX):
            task, _, name = key[len(TASKS_PREFIX):].partition("/")
            if task.isdigit():
                tasks.setdefault(int(task), {})[name] = value
    return dict(sorted(tasks.items()))


def _fmt(value: Any, width: int = 0) -> str:
    if value is None:
        return "-".rjust(width)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{int(value)}".rjust(width)
    if isinstance(value, float):
        return f"{value:{width}.4g}" if abs(value) < 1e6 else f"{value:{width}.0f}"
    return f"{value}".rjust(width)
