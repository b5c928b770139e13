"""Shared pieces of the benchmarks: the compared configs, a timed training loop, output.

The benchmarks compare EmbedPG with RLlib's PPO on the same tasks: PPO sees the baselines'
view of the env (`env_config["flat_obs"]=True`: observation ++ one-hot task id, the task
cycling per reset), the same env runners, envs per runner and train batch (K*D*I steps).
"""

import json
import os
import platform
import sys
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO_ROOT not in sys.path:  # run as `python3 bench/x.py`: this checkout's rllib_embed first
    sys.path.insert(0, REPO_ROOT)

ENV = "rllib_embed/PointGoals-v0"
RESULTS_DIR = os.path.join(REPO_ROOT, "bench", "results")


def add_common_args(parser) -> None:
    parser.add_argument("--torch-threads", type=int, default=1,
                        help="torch threads of this process, which hosts the local env runner and the learner "
                             "(default 1, as Ray gives each 1-CPU actor: OMP_NUM_THREADS=1); 0 = torch's default")


def init_ray(num_cpus: int = 2, torch_threads: int = 1) -> None:
    """A small local Ray (the project's machines are 2-core and shared)."""
    import ray
    import torch
    if torch_threads:
        # Two OpenMP threads on tiny matrices wait on each other whenever the machine is
        # busy: measured 3x slower sampling on this shared 2-core machine.
        torch.set_num_threads(torch_threads)
    if not ray.is_initialized():
        os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, object_store_memory=300 * 1024 ** 2,
                 log_to_driver=False, runtime_env={"env_vars": {"PYTHONPATH": REPO_ROOT}})


def envs_per_runner(num_tasks: int, copies: int, num_env_runners: int) -> int:
    n = num_tasks * copies
    if n % max(num_env_runners, 1):
        raise ValueError(f"num_env_runners={num_env_runners} must divide K*D = {n}")
    return n // max(num_env_runners, 1)


def embedpg_config(*, num_tasks: int = 4, copies: int = 2, fragment: int = 25, num_env_runners: int = 0,
                   history_len: int = 4, estimator: str = "seed", seed: int = 0, **training):
    from rllib_embed import EmbedPGConfig
    return (EmbedPGConfig()
            .environment(ENV, env_config={"num_tasks": num_tasks})
            .env_runners(num_env_runners=num_env_runners,
                         num_envs_per_env_runner=envs_per_runner(num_tasks, copies, num_env_runners),
                         rollout_fragment_length=fragment)
            .training(copies_per_task=copies, history_len=history_len, estimator=estimator, **training)
            .debugging(seed=seed))


def ppo_config(*, num_tasks: int = 4, copies: int = 2, fragment: int = 25, num_env_runners: int = 0,
               seed: int = 0, **training):
    """RLlib's PPO at its defaults (unless `training` overrides), on EmbedPG's sampling layout."""
    import rllib_embed  # noqa: F401  (registers the envs)
    from ray.rllib.algorithms.ppo import PPOConfig
    return (PPOConfig()
            .environment(ENV, env_config={"num_tasks": num_tasks, "flat_obs": True})
            .env_runners(num_env_runners=num_env_runners,
                         num_envs_per_env_runner=envs_per_runner(num_tasks, copies, num_env_runners),
                         rollout_fragment_length=fragment)
            .training(train_batch_size_per_learner=num_tasks * copies * fragment, **training)
            .debugging(seed=seed))


class TimedAlgo:
    """An algorithm whose training iterations are timed, split into their phases.

    Phases (seconds per iteration): `sampling` (the env runners' round), `learner_connector`
    (episodes to the train batch, incl. EmbedPG's s^H windows and intrinsic reward pass),
    `gradient` (the learner's forward/backward/optimizer passes), `weight_sync` and `other`
    (metrics and bookkeeping). The learner must be local (num_learners=0).
    """

    def __init__(self, name: str, config):
        self.name = name
        self.algo = config.build_algo()
        self.times: Dict[str, float] = {}
        self._wrap_phases()

    def _add(self, phase: str, seconds: float) -> None:
        self.times[phase] = self.times.get(phase, 0.0) + seconds

    def _timed(self, phase: str, fn: Callable) -> Callable:
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._add(phase, time.perf_counter() - start)
        return wrapper

    def _wrap_phases(self) -> None:
        algo = self.algo
        learner = getattr(algo.learner_group, "_learner", None)
        if learner is None:
            raise ValueError("TimedAlgo needs a local learner (num_learners=0)")
        learner._make_batch_if_necessary = self._timed("learner_connector", learner._make_batch_if_necessary)
        algo.learner_group.update = self._timed("learner", algo.learner_group.update)
        algo.env_runner_group.sync_weights = self._timed("weight_sync", algo.env_runner_group.sync_weights)
        # The algorithms' training_step call the sampling function by its module-level name;
        # one wrapper per module times the call for whichever algorithm's runners it gets.
        module = sys.modules[type(algo).training_step.__module__]
        if not hasattr(module, "_bench_original_sample"):
            module._bench_original_sample = module.synchronous_parallel_sample
            module._bench_timers = {}

            def sample(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return module._bench_original_sample(*args, **kwargs)
                finally:
                    add = module._bench_timers.get(id(kwargs.get("worker_set", args[0] if args else None)))
                    if add is not None:
                        add("sampling", time.perf_counter() - start)
            module.synchronous_parallel_sample = sample
        module._bench_timers[id(algo.env_runner_group)] = self._add

    def env_steps(self) -> int:
        runners = self.algo.env_runner_group
        return int(self.algo.metrics.peek(("env_runners", "num_env_steps_sampled_lifetime"), default=0)) \
            if runners is not None else 0

    def train(self, iterations: int) -> Dict[str, Any]:
        """Runs `iterations` training iterations; returns steps, seconds and the phase split."""
        self.times = {}
        steps0 = self.env_steps()
        start = time.perf_counter()
        for _ in range(iterations):
            self.algo.train()
        wall = time.perf_counter() - start
        steps = self.env_steps() - steps0
        t = dict(self.times)
        learner = t.pop("learner", 0.0)
        split = {
            "sampling": t.get("sampling", 0.0),
            "learner_connector": t.get("learner_connector", 0.0),
            "gradient": learner - t.get("learner_connector", 0.0),
            "weight_sync": t.get("weight_sync", 0.0),
        }
        split["other"] = wall - sum(split.values())
        return {"steps": steps, "seconds": wall, "split": split}

    def sample_only(self, iterations: int) -> Dict[str, Any]:
        """The same env runners and module sampling the same rounds, with no learning at all."""
        from ray.rllib.execution.rollout_ops import synchronous_parallel_sample
        module = sys.modules[type(self.algo).training_step.__module__]
        sample = getattr(module, "_bench_original_sample", synchronous_parallel_sample)
        steps = 0
        start = time.perf_counter()
        for _ in range(iterations):
            episodes, _ = sample(worker_set=self.algo.env_runner_group, max_env_steps=None,
                                 sample_timeout_s=self.algo.config.sample_timeout_s,
                                 _uses_new_env_runners=True, _return_metrics=True)
            steps += sum(len(e) for e in episodes)
        return {"steps": steps, "seconds": time.perf_counter() - start}

    def stop(self) -> None:
        module = sys.modules[type(self.algo).training_step.__module__]
        module._bench_timers.pop(id(self.algo.env_runner_group), None)
        if not module._bench_timers:  # the last timed algorithm of this module: un-patch it
            module.synchronous_parallel_sample = module._bench_original_sample
            del module._bench_original_sample, module._bench_timers
        self.algo.stop()


def median(values: List[float]) -> float:
    v = sorted(values)
    n = len(v)
    if n == 0:
        return float("nan")
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def load_note(settings: Dict[str, Any]) -> str:
    """'load average A before, B after (N cores, T UTC)' from a run's machine() readings."""
    before, after = settings["machine_before"], settings["machine_after"]
    return (f"load average {before['load_avg_1_5_15'][0]} before, {after['load_avg_1_5_15'][0]} after "
            f"({after['cpus']} cores, {after['utc']} UTC")


def machine() -> Dict[str, Any]:
    """What the numbers were measured on, and how busy the machine was."""
    import torch
    try:
        load = os.getloadavg()
    except OSError:
        load = (float("nan"),) * 3
    return {"cpus": os.cpu_count(), "load_avg_1_5_15": [round(x, 2) for x in load],
            "python": platform.python_version(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "ray": __import__("ray").__version__,
            "utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}


def write_outputs(name: str, data: Dict[str, Any], markdown: str, out: Optional[str]) -> None:
    """JSON to `out` (default bench/results/<name>.json), the markdown beside it, both to stdout."""
    path = out or os.path.join(RESULTS_DIR, f"{name}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
    with open(os.path.splitext(path)[0] + ".md", "w") as f:
        f.write(markdown)
    print(markdown)
    print(f"wrote {path}")


def table(header: List[str], rows: List[List[Any]]) -> str:
    def cell(x):
        if isinstance(x, float):
            return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"
        return str(x)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cell(x) for x in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@contextmanager
def quiet_warnings():
    import logging
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in ("ray", "ray.rllib"):
            logging.getLogger(name).setLevel(logging.ERROR)
        yield
