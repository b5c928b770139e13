"""EmbedPG with two data-parallel learners (torch DDP on CPU) and two env runners.

    python examples/num_learners.py --iterations 200
    python examples/num_learners.py --num-learners 4 --num-tasks 8 --ray-address auto

Each round's episodes are split by whole tasks (all D copies of task k go to learner
k mod L), each learner scales its share of the sum over segments by L/(KD), and DDP
averages the gradients: the step is the one a single learner would take on the whole
batch (tests/test_num_learners.py checks this). At the end the learners' weights are
compared: they must be identical.
"""

import argparse
import time

import ray

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.callbacks import TASKS_KEY, per_task_metrics


def learner_weights(algo):
    return algo.learner_group.foreach_learner(
        lambda learner: {k: v.detach().clone() for k, v in learner.module["default_policy"].unwrapped().state_dict().items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--num-learners", type=int, default=2)
    parser.add_argument("--num-tasks", type=int, default=4)
    parser.add_argument("--num-env-runners", type=int, default=2)
    parser.add_argument("--ray-address", default=None, help="join a running Ray cluster, e.g. auto or HOST:6379")
    args = parser.parse_args()

    ray.init(address=args.ray_address, include_dashboard=False)
    envs = 2 * args.num_tasks  # K tasks x D=2 copies, spread over the env runners
    if envs % args.num_env_runners:
        parser.error(f"--num-env-runners must divide K*D = {envs}")
    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": args.num_tasks})
              .env_runners(num_env_runners=args.num_env_runners, num_envs_per_env_runner=envs // args.num_env_runners,
                           num_cpus_per_env_runner=0.5, rollout_fragment_length=25)
              .learners(num_learners=args.num_learners, num_cpus_per_learner=0.5)
              .training(copies_per_task=2)
              .debugging(seed=0))
    algo = config.build_algo()
    start = time.time()
    for i in range(1, args.iterations + 1):
        result = algo.train()
        if i % 20 == 0 or i == args.iterations:
            tasks = per_task_metrics(result["env_runners"].get(TASKS_KEY, {}))
            returns = " ".join(f"{m['episode_return_mean']:6.1f}" for m in tasks.values())
            print(f"iter {i:4d}  steps {int(result['num_env_steps_sampled_lifetime']):7d}  "
                  f"task returns [{returns}]  {time.time() - start:6.1f}s", flush=True)
    weights = [r.get() for r in learner_weights(algo)]
    diff = max((w[k] - weights[0][k]).abs().max().item() for w in weights[1:] for k in w)
    print(f"{len(weights)} learners; largest weight difference between them: {diff:g}")
    algo.stop()


if __name__ == "__main__":
    main()
