"""Profiles EmbedPG's training iterations (cProfile) and the learner update alone (CPU time).

    python3 bench/profile_iteration.py                   # 30 iterations, PointGoals K=4, D=2, I=25
    python3 bench/profile_iteration.py --top 40 --torch-threads 0

Prints (1) the functions with the most cumulative time over `--iterations` training
iterations, and (2) the median main-thread CPU time of a sampling round, of the learner
connectors and of the whole learner update, measured outside the profiler on freshly
sampled rounds (CPU time moves less than wall time with the load of a shared machine).
"""

import argparse
import cProfile
import io
import pstats
import time

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import add_common_args, embedpg_config, init_ray, median, quiet_warnings


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iterations", type=int, default=30)
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--value-epochs", type=int, default=None, help="override EmbedPG's value_epochs")
    add_common_args(p)
    args = p.parse_args(argv)
    with quiet_warnings():
        init_ray(torch_threads=args.torch_threads)
        extra = {} if args.value_epochs is None else {"value_epochs": args.value_epochs}
        algo = embedpg_config(**extra).build_algo()
        from ray.rllib.utils.metrics import NUM_ENV_STEPS_SAMPLED_LIFETIME
        for _ in range(5):
            algo.train()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.iterations):
            algo.train()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())

        learner, runner = algo.learner_group._learner, algo.env_runner
        cpu = {"sampling": [], "learner_connector": [], "learner_update": []}
        make_batch = learner._make_batch_if_necessary

        def timed_make_batch(*a, **k):
            start = time.thread_time()
            try:
                return make_batch(*a, **k)
            finally:
                cpu["learner_connector"].append(time.thread_time() - start)
        learner._make_batch_if_necessary = timed_make_batch
        for i in range(args.iterations):
            start = time.thread_time()
            episodes = runner.sample()
            cpu["sampling"].append(time.thread_time() - start)
            start = time.thread_time()
            algo.learner_group.update(episodes=episodes, timesteps={NUM_ENV_STEPS_SAMPLED_LIFETIME: 10 ** 6 + i},
                                      num_epochs=algo.config.learner_passes)
            cpu["learner_update"].append(time.thread_time() - start)
            algo.env_runner_group.sync_weights(from_worker_or_learner_group=algo.learner_group, inference_only=True)
        algo.stop()
    result = {k: 1000 * median(v) for k, v in cpu.items()}
    print("median main-thread CPU ms per round of", 4 * 2 * 25, "env steps:",
          {k: round(v, 2) for k, v in result.items()})
    return result


if __name__ == "__main__":
    main()
