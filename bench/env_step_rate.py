"""Raw environment speed of each robot family: steps/s of env.step alone.

    python bench/env_step_rate.py --seconds 5

One env per family, random actions, resetting when an episode ends (resets are
counted in the time, not in the steps); no RL, no Ray. This bounds what any
algorithm can sample per core; compare it with the sampling rate in a training
result to see how much the learning stack costs on top.
"""

import argparse
import time

import numpy as np

from rllib_embed.embed_pg.env_factory import make_env

FAMILIES = {
    "rllib_embed/HalfCheetahDir-v0": {},
    "rllib_embed/HalfCheetahVel-v0": {},
    "rllib_embed/AntDir-v0": {},
    "rllib_embed/MetaWorldMT1-v0": {"task": "reach-v3"},
    "rllib_embed/MetaWorldMT10-v0": {},
}


def step_rate(env_id: str, env_config: dict, seconds: float, seed: int = 0) -> float:
    env = make_env(env_id, env_config)
    rng = np.random.default_rng(seed)
    rates = []
    for task in range(env.num_tasks):  # every task gets an equal share of the time
        env.set_task(task)
        env.reset(seed=seed)
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / env.num_tasks:
            action = rng.uniform(env.action_space.low, env.action_space.high).astype(np.float32)
            _, _, terminated, truncated, _ = env.step(action)
            steps += 1
            if terminated or truncated:
                env.reset()
        rates.append(steps / (time.perf_counter() - start))
    env.close()
    return float(np.mean(rates))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="per family")
    args = parser.parse_args()
    for env_id, env_config in FAMILIES.items():
        print(f"{env_id}: {step_rate(env_id, env_config, args.seconds):,.0f} env steps/s (one core)", flush=True)


if __name__ == "__main__":
    main()
