"""A Ray Tune sweep over EmbedPG's alphas and latent size, with an ASHA scheduler.

    python examples/tune_sweep.py --num-samples 16 --max-iters 400
    python examples/tune_sweep.py --ray-address auto      # on a running Ray cluster

Each trial trains EmbedPG on PointGoals (K=4); ASHA stops the trials whose worst task
lags (`env_runners/tasks/min_episode_return_mean`) early. The same sweep as one YAML
file for the `rllib` command: tuned_configs/pointgoals-embedpg-sweep.yaml.
"""

import argparse

import ray
from ray import tune
from ray.tune.schedulers import ASHAScheduler

from rllib_embed import EmbedPGConfig

METRIC = "env_runners/tasks/min_episode_return_mean"  # the worst task's return


def search_space(num_tasks: int) -> EmbedPGConfig:
    return (EmbedPGConfig()
            .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": num_tasks})
            .env_runners(num_env_runners=0, rollout_fragment_length=25)
            .training(copies_per_task=2,
                      alpha1=tune.loguniform(1e-3, 1e-1),   # weight of H[p(z|t)]
                      alpha2=tune.loguniform(1e-3, 1e-1),   # weight of log q(z|a,s^H) in r_hat
                      alpha3=tune.loguniform(1e-3, 1e-1),   # weight of H[pi(.|s,z)] in r_hat
                      latent_dim=tune.choice([2, 4, 8])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--num-samples", type=int, default=16)
    parser.add_argument("--max-iters", type=int, default=400, help="iterations of the longest trial")
    parser.add_argument("--num-tasks", type=int, default=4)
    parser.add_argument("--storage-path", default=None, help="where Tune writes results (default ~/ray_results)")
    parser.add_argument("--ray-address", default=None, help="join a running Ray cluster, e.g. auto or HOST:6379")
    args = parser.parse_args()

    ray.init(address=args.ray_address, include_dashboard=False)
    scheduler = ASHAScheduler(time_attr="training_iteration", max_t=args.max_iters,
                              grace_period=max(1, args.max_iters // 8), reduction_factor=2)
    tuner = tune.Tuner(
        "EmbedPG",
        param_space=search_space(args.num_tasks),
        tune_config=tune.TuneConfig(metric=METRIC, mode="max", scheduler=scheduler, num_samples=args.num_samples),
        run_config=tune.RunConfig(name="embedpg-sweep", storage_path=args.storage_path,
                                  stop={"training_iteration": args.max_iters}),
    )
    results = tuner.fit()
    best = results.get_best_result()
    print("best trial:", {k: best.config[k] for k in ("alpha1", "alpha2", "alpha3", "latent_dim")})
    print(f"worst-task return of the best trial: {best.metrics['env_runners']['tasks']['min_episode_return_mean']:.2f}")
    print("results in", results.experiment_path)


if __name__ == "__main__":
    main()
