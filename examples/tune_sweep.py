"""A Ray Tune sweep over EmbedPG's alphas and latent size, with an ASHA scheduler.

    python examples/tune_sweep.py --num-samples 16 --max-iters 400
    python examples/tune_sweep.py --ray-address auto      # on a running Ray cluster

Each trial trains EmbedPG on PointGoals (K=4); ASHA stops the trials whose worst task
lags (`env_runners/tasks/min_episode_return_mean`) early. One progress bar counts the
iterations of all trials (its total shrinks as ASHA stops trials); Tune's own table and
Ray's worker logs are held back (`--verbose` shows Tune's table). The same sweep as one
YAML file for the `rllib` command: tuned_configs/pointgoals-embedpg-sweep.yaml.
"""

import argparse
import logging
import os
import warnings

os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

import ray  # noqa: E402
from ray import tune  # noqa: E402
from ray.tune.schedulers import ASHAScheduler  # noqa: E402
from tqdm import tqdm  # noqa: E402

from rllib_embed import EmbedPGConfig  # noqa: E402

METRIC = "env_runners/tasks/min_episode_return_mean"  # the worst task's return


def search_space(num_tasks: int) -> EmbedPGConfig:
    return (EmbedPGConfig()
            .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": num_tasks})
            .env_runners(num_env_runners=0, rollout_fragment_length=25)
            .training(copies_per_task=2,
                      alpha1=tune.loguniform(1e-3, 1e-1),   # weight of H[p(z|t)]
                      alpha2=tune.loguniform(1e-3, 1e-1),   # weight of log q(z|a,s^H) in r_hat
                      alpha3=tune.loguniform(1e-3, 1e-1),   # weight of H[pi(.|s,z)] in r_hat
                      latent_dim=tune.choice([2, 4, 8]))
            .debugging(log_level="ERROR"))


class ProgressBar(tune.Callback):
    """One tqdm bar over every trial's iterations: total num_samples x max_iters, less what
    ASHA's early stops leave undone; the postfix shows the best worst-task return so far."""

    def __init__(self, num_samples: int, max_iters: int):
        self.max_iters = max_iters
        self.bar = tqdm(total=num_samples * max_iters, unit="it", desc="sweep", dynamic_ncols=True)
        self.done = {}  # trial id -> iterations reported
        self.best = float("-inf")

    def on_trial_result(self, iteration, trials, trial, result, **info):
        self.done[trial.trial_id] = result["training_iteration"]
        value = result.get("env_runners", {}).get("tasks", {}).get("min_episode_return_mean")
        if value is not None and value == value:  # not NaN
            self.best = max(self.best, value)
        finished = sum(1 for t in trials if t.status in ("TERMINATED", "ERROR"))
        self.bar.set_postfix({"trials done": f"{finished}/{len(trials)}", "best worst-task return": f"{self.best:.1f}"},
                             refresh=False)
        self.bar.update(1)

    def on_trial_complete(self, iteration, trials, trial, **info):
        self.bar.total -= self.max_iters - self.done.get(trial.trial_id, 0)  # stopped early: never to be run
        self.bar.refresh()

    def on_experiment_end(self, trials, **info):
        self.bar.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-samples", type=int, default=16)
    parser.add_argument("--max-iters", type=int, default=400, help="iterations of the longest trial")
    parser.add_argument("--num-tasks", type=int, default=4)
    parser.add_argument("--storage-path", default=None, help="where Tune writes results (default ~/ray_results)")
    parser.add_argument("--ray-address", default=None, help="join a running Ray cluster, e.g. auto or HOST:6379 (default: start a local one)")
    parser.add_argument("--verbose", action="store_true", help="Tune's status table and Ray's logs instead of the bar")
    args = parser.parse_args()
    if not args.verbose:
        warnings.filterwarnings("ignore")
        for name in ("ray", "ray.rllib", "ray.tune"):
            logging.getLogger(name).setLevel(logging.ERROR)

    ray.init(address=args.ray_address or "local", include_dashboard=False, log_to_driver=args.verbose,
             logging_level=logging.INFO if args.verbose else logging.ERROR)
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=args.max_iters,
                              grace_period=max(1, args.max_iters // 8), reduction_factor=2)
    tuner = tune.Tuner(
        "EmbedPG",
        param_space=search_space(args.num_tasks),
        tune_config=tune.TuneConfig(metric=METRIC, mode="max", scheduler=scheduler, num_samples=args.num_samples),
        run_config=tune.RunConfig(name="embedpg-sweep", storage_path=args.storage_path,
                                  stop={"training_iteration": args.max_iters},
                                  verbose=2 if args.verbose else 0,
                                  callbacks=[] if args.verbose else [ProgressBar(args.num_samples, args.max_iters)]),
    )
    results = tuner.fit()
    best = results.get_best_result()
    print("best trial:", {k: best.config[k] for k in ("alpha1", "alpha2", "alpha3", "latent_dim")})
    print(f"worst-task return of the best trial: {best.metrics['env_runners']['tasks']['min_episode_return_mean']:.2f}")
    print("results in", results.experiment_path)


if __name__ == "__main__":
    main()
