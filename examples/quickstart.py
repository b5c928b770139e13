"""Train EmbedPG on PointGoals (K=4 goals on a circle) and print progress.

    python examples/quickstart.py --iterations 1200

Each line: iteration, env steps, mean episode return, each task's success rate
(training episodes, skills sampled from p(z|t)), how well q identifies the task, and
the embedding entropy. At the end, each task is evaluated with its mean skill and
the policy's mean action. The settings are those measured in docs/learning.md.
"""

import argparse
import time

import ray

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.callbacks import TASKS_KEY, per_task_metrics
from rllib_embed.embed_pg.evaluation import evaluate_per_task

ENV = "rllib_embed/PointGoals-v0"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1200)
    parser.add_argument("--num-tasks", type=int, default=4)
    parser.add_argument("--estimator", choices=["seed", "unbiased"], default="seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", help="directory to save the trained algorithm to")
    args = parser.parse_args()

    ray.init(include_dashboard=False)
    config = (EmbedPGConfig()
              .environment(ENV, env_config={"num_tasks": args.num_tasks})
              .env_runners(num_env_runners=0, rollout_fragment_length=25)
              .training(estimator=args.estimator, copies_per_task=2)
              .debugging(seed=args.seed))
    algo = config.build_algo()
    start = time.time()
    for i in range(1, args.iterations + 1):
        result = algo.train()
        runners, learner = result["env_runners"], result["learners"]["default_policy"]
        tasks = per_task_metrics(runners.get(TASKS_KEY, {}))
        success = " ".join(f"{m.get('success_mean', float('nan')):.2f}" for m in tasks.values())
        print(f"iter {i:4d}  steps {int(runners['num_env_steps_sampled_lifetime']):7d}  "
              f"return {runners.get('episode_return_mean', float('nan')):7.2f}  success [{success}]  "
              f"q-acc {learner['q_task_accuracy']:.2f}  H[p] {learner['embedding_entropy']:.2f}  "
              f"{time.time() - start:6.1f}s", flush=True)
    evaluation = evaluate_per_task(algo.get_module(), ENV, {"num_tasks": args.num_tasks},
                                   episodes_per_task=10, skill="mean")
    print("\ntask  return  success   (10 episodes each, mean skill, mean action)")
    for task, stats in evaluation.items():
        print(f"{task:4d}  {stats['episode_return_mean']:6.2f}  {stats['success_mean']:7.2f}")
    if args.checkpoint:
        print("saved to", algo.save_to_path(args.checkpoint))
    algo.stop()


if __name__ == "__main__":
    main()
