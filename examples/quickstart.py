"""Train EmbedPG on PointGoals (K=4 goals on a circle) until every task is solved.

    python examples/quickstart.py                 # about a minute on a quiet 2-core machine (56 s measured, 34 s of it training)
    python examples/quickstart.py --max-iterations 1200 --solved 1.0

One progress bar (iterations done of the budget, time left, mean return, each task's
success). Every `--eval-every` iterations each task is evaluated with its mean skill
z = mu(t) and the policy's mean action (`evaluate_per_task`); training stops once every
task's success reaches `--solved`, or at `--max-iterations`. The settings are those
measured in docs/learning.md.
"""

import argparse
import logging
import os
import warnings

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")

import ray  # noqa: E402
import torch  # noqa: E402
from tqdm import tqdm  # noqa: E402

from rllib_embed import EmbedPGConfig  # noqa: E402
from rllib_embed.embed_pg.evaluation import evaluate_per_task  # noqa: E402

ENV = "rllib_embed/PointGoals-v0"


def quiet() -> None:
    """Ray's and RLlib's INFO/WARNING lines (the new-API-stack notice, worker logs) held back."""
    warnings.filterwarnings("ignore")
    for name in ("ray", "ray.rllib", "ray.tune", "gymnasium"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--max-iterations", type=int, default=600, help="budget (200 env steps each)")
    parser.add_argument("--solved", type=float, default=1.0, help="every task's mean-skill success to stop at")
    parser.add_argument("--eval-every", type=int, default=25, help="iterations between evaluations")
    parser.add_argument("--num-tasks", type=int, default=4)
    parser.add_argument("--estimator", choices=["seed", "unbiased"], default="seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", help="directory to save the trained algorithm to")
    args = parser.parse_args()
    for name in ("max_iterations", "eval_every", "num_tasks"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1; got {getattr(args, name)}")

    quiet()
    # The learner runs here, in this process: one torch thread, as Ray gives its workers
    # (OMP_NUM_THREADS=1). The nets are small; with torch's default (a thread per core) a
    # busy 2-core machine took 1.1 s per iteration instead of 0.05 s.
    torch.set_num_threads(1)
    ray.init(address="local", include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             configure_logging=True)
    env_config = {"num_tasks": args.num_tasks}
    config = (EmbedPGConfig()
              .environment(ENV, env_config=env_config)
              .env_runners(num_env_runners=0, rollout_fragment_length=25)
              .training(estimator=args.estimator, copies_per_task=2)
              .debugging(seed=args.seed, log_level="ERROR"))
    algo = config.build_algo()
    evaluation, solved_at = None, None
    with tqdm(total=args.max_iterations, unit="it", desc="EmbedPG PointGoals", dynamic_ncols=True) as bar:
        for i in range(1, args.max_iterations + 1):
            runners = algo.train()["env_runners"]
            if i % args.eval_every == 0 or i == args.max_iterations:
                evaluation = evaluate_per_task(algo.get_module(), ENV, env_config, episodes_per_task=5, skill="mean")
            postfix = {"return": f"{runners.get('episode_return_mean', float('nan')):.1f}"}
            if evaluation is not None:
                postfix["success"] = " ".join(f"{stats['success_mean']:.1f}" for stats in evaluation.values())
            bar.set_postfix(postfix, refresh=False)
            bar.update(1)
            if evaluation is not None and min(s["success_mean"] for s in evaluation.values()) >= args.solved:
                solved_at = (i, int(runners["num_env_steps_sampled_lifetime"]))
                break
        elapsed = bar.format_dict["elapsed"]
    final = evaluate_per_task(algo.get_module(), ENV, env_config, episodes_per_task=10, skill="mean")
    if solved_at:
        print(f"every task solved after {solved_at[0]} iterations, {solved_at[1]} env steps, {elapsed:.0f} s")
    else:
        print(f"not every task solved within {args.max_iterations} iterations ({elapsed:.0f} s)")
    print("task  return  success   (10 episodes each, mean skill, mean action)")
    for task, stats in final.items():
        print(f"{task:4d}  {stats['episode_return_mean']:6.2f}  {stats['success_mean']:7.2f}")
    if args.checkpoint:
        print("saved to", algo.save_to_path(args.checkpoint))
    algo.stop()
    ray.shutdown()


if __name__ == "__main__":
    main()
