"""Train one tuned config (tuned_configs/*.yaml) for a bounded wall time, logging the curve.

    python examples/train_tuned_config.py tuned_configs/halfcheetah-dir-embedpg.yaml --minutes 15

The YAML is in RLlib's tuned-example format (one experiment: env, run, stop, config);
its ``stop`` criteria end the run early. Each line printed: iteration, env steps,
wall seconds, each task's mean training return (and success where the env reports
it), q's task accuracy. At the end each task is evaluated with its mean skill and the
policy's mean action. For runs on a cluster, ``rllib train file X.yaml`` or Tune take
the same file.
"""

import argparse
import time

import ray
import yaml

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.callbacks import TASKS_KEY
from rllib_embed.embed_pg.evaluation import evaluate_algorithm_per_task


def _get(result, path):
    for key in path.split("/"):
        if not isinstance(result, dict) or key not in result:
            return None
        result = result[key]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file")
    parser.add_argument("--minutes", type=float, default=15.0, help="wall-time bound")
    parser.add_argument("--eval-episodes", type=int, default=3, help="per task, at the end")
    parser.add_argument("--num-cpus", type=int, default=2, help="for a new local Ray instance")
    parser.add_argument("--address", default="local", help="Ray address; 'auto' joins a running cluster")
    args = parser.parse_args()

    with open(args.file, encoding="utf-8") as f:
        (name, experiment), = yaml.safe_load(f).items()
    if experiment.get("run") != "EmbedPG":
        raise ValueError(f"{args.file}: 'run' must be EmbedPG, got {experiment.get('run')!r}")
    config = EmbedPGConfig().update_from_dict(experiment.get("config", {}))
    config.environment(experiment["env"])
    stop = experiment.get("stop", {})

    if args.address == "local":
        ray.init(address="local", num_cpus=args.num_cpus, include_dashboard=False,
                 object_store_memory=500 * 1024**2)
    else:
        ray.init(address=args.address)
    algo = config.build_algo()
    start = time.time()
    try:
        while time.time() - start < 60 * args.minutes:
            result = algo.train()
            tasks = result["env_runners"].get(TASKS_KEY, {})
            per_task = " ".join(
                f"{k}={v['episode_return_mean']:.1f}" + (f"/s{v['success_mean']:.2f}" if "success_mean" in v else "")
                for k, v in sorted(tasks.items()) if isinstance(v, dict)
            )
            q = result["learners"]["default_policy"].get("q_task_accuracy", float("nan"))
            print(f"{name} it={result['training_iteration']} steps={result['env_runners']['num_env_steps_sampled_lifetime']} "
                  f"t={time.time() - start:.0f}s {per_task} q_acc={q:.2f}", flush=True)
            reached = [k for k, v in stop.items() if (got := _get(result, k)) is not None and got >= v]
            if reached:
                print(f"{name}: stop criterion {reached} reached", flush=True)
                break
        evaluation = evaluate_algorithm_per_task(algo, episodes_per_task=args.eval_episodes, skill="mean")
        print(f"{name} final evaluation (mean skill, mean action): {evaluation}", flush=True)
    finally:
        algo.stop()
        ray.shutdown()


if __name__ == "__main__":
    main()
