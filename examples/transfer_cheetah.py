"""Transfer on a robot, measured: cheetah skills run at speeds they never trained on.

    python examples/transfer_cheetah.py skills --out cheetah_results          # ~2 min: zero-shot and z search
    python examples/transfer_cheetah.py scratch --out cheetah_results --seeds 0 1 2   # PPO from scratch, ~15 min/seed
    python examples/transfer_cheetah.py table --out cheetah_results           # markdown table + PNG from the JSON

Skills: the HalfCheetahVel skills shipped in examples/skills/halfcheetah_vel (trained on the
target speeds 0.5, 1.0, 1.5 and 2.0 m/s by examples/train_robot_skills.py; --skills takes
another EmbedPG checkpoint or RLModule folder). New tasks (`rllib_embed/HalfCheetahSpeedSchedule-v0`):

- held-out speeds between and beyond the trained ones (--speeds, default 0.25 0.75 1.25
  1.75 2.25 m/s), constant for the 200-step episode;
- a schedule: 0.75 m/s for 100 steps, then 1.75 m/s.

Measured for each (speed error: |mean x-velocity - target| per stretch of constant target,
its first 40 steps left out, m/s; mean over 10 episodes, env seeds 100-109):

- zero-shot: z = the blend of the two nearest trained speeds' embedding means
  (`skill_for_value`), no training, no episode run to choose it (for the schedule, z follows
  the current target);
- search: the cross-entropy method over z (`search_skill`), --episodes episodes (default 30)
  of 200 env steps from the zero-shot z, each scored by its speed error (constant speeds only);
- from scratch (`scratch`): RLlib's PPO at its MuJoCo settings (the skills' own recipe:
  4,000-step batches, 10 epochs, minibatch 64, lr 3e-4, gamma 0.99, lambda 0.95, clip 0.2,
  MeanStdFilter) on the same env with the target speed in its observation (`flat_obs`),
  8 env copies; its greedy policy is evaluated every 20,000 env steps (3 episodes, the same
  speed error): the env steps until it is as close as zero-shot and as the search.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np
from train_robot_skills import TARGET_VELOCITIES as TRAINED_SPEEDS, ppo_mujoco

ENV = "rllib_embed/HalfCheetahSpeedSchedule-v0"
SKILLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "skills", "halfcheetah_vel")
HELD_OUT_SPEEDS = [0.25, 0.75, 1.25, 1.75, 2.25]
SCHEDULE = [[0, 0.75], [100, 1.75]]
EVAL_SEEDS = tuple(range(100, 110))
SCRATCH_EVAL_EVERY = 5  # PPO iterations (4,000 env steps each) between greedy evaluations
SCRATCH_EVAL_EPISODES = 3


def episode_speed_error(rollout_result) -> float:
    from rllib_embed.envs.cheetah_speed_schedule import TARGET_KEY, speed_error
    return speed_error(rollout_result.info_values("x_velocity"), rollout_result.info_values(TARGET_KEY))


def evaluate_skill(module, env_config: dict, z) -> dict:
    """Speed error (m/s), return and speed reached (mean x-velocity after 40 steps, m/s) of the frozen skills under z (a skill or a function of the
    observation and info) over the evaluation seeds."""
    from rllib_embed.embed_pg.env_factory import make_env
    from rllib_embed.transfer import rollout
    env = make_env(ENV, env_config)
    try:
        runs = [rollout(module, env, z, seed=seed) for seed in EVAL_SEEDS]
    finally:
        env.close()
    return {"speed_error": float(np.mean([episode_speed_error(r) for r in runs])),
            "return": float(np.mean([r.episode_return for r in runs])),
            "reached": float(np.mean([r.info_values("x_velocity")[40:].mean() for r in runs]))}


def run_skills(args) -> None:
    """Zero-shot and search on every held-out speed, zero-shot on the schedule, and the speed
    zero-shot z reaches for targets 0 to 2.5 m/s; written to OUT/skills.json."""
    from rllib_embed.envs.cheetah_speed_schedule import TARGET_KEY
    from rllib_embed.transfer import load_skills, search_skill, skill_for_value, task_embeddings

    module = load_skills(args.skills)
    means, _ = task_embeddings(module)
    results = {"skills": os.path.relpath(args.skills), "trained_speeds": TRAINED_SPEEDS, "episodes": args.episodes,
               "speeds": [], "trained": []}
    for k, speed in enumerate(TRAINED_SPEEDS):  # the trained tasks' own skills, for reference
        results["trained"].append({"speed": speed, **evaluate_skill(module, {"schedule": [[0, speed]]}, means[k])})
    for speed in args.speeds:
        start = time.time()
        config = {"schedule": [[0, speed]]}
        z0 = skill_for_value(means, TRAINED_SPEEDS, speed)
        search = search_skill(module, ENV, config, episodes=args.episodes, start=z0, seed=args.seed,
                              score=lambda episode: -episode_speed_error(episode))
        row = {"speed": speed, "zero_shot": evaluate_skill(module, config, z0),
               "search": evaluate_skill(module, config, search.skill), "search_episodes": search.episodes,
               "search_env_steps": 200 * search.episodes, "wall_s": round(time.time() - start, 1)}
        results["speeds"].append(row)
        print(f"{speed} m/s: zero-shot error {row['zero_shot']['speed_error']:.3f}, after {search.episodes} "
              f"episodes of search {row['search']['speed_error']:.3f} m/s", flush=True)

    def follow_target(obs, info):
        return skill_for_value(means, TRAINED_SPEEDS, float(info[TARGET_KEY]))

    results["schedule"] = {"schedule": SCHEDULE, "zero_shot": evaluate_skill(module, {"schedule": SCHEDULE},
                                                                             follow_target)}
    targets = np.round(np.arange(0.0, 2.51, 0.125), 3)
    results["sweep"] = {"targets": targets.tolist(), "speeds": [evaluate_skill(
        module, {"schedule": [[0, float(v)]]}, skill_for_value(means, TRAINED_SPEEDS, float(v)))["reached"]
        for v in targets]}
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "skills.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(f"schedule 0.75 -> 1.75 m/s, zero-shot: error {results['schedule']['zero_shot']['speed_error']:.3f} m/s",
          flush=True)


def scratch_config(speed: float, seed: int):
    """RLlib's PPO at its MuJoCo settings on the held-out speed, greedy evaluation every 20k env steps."""
    from ray.rllib.callbacks.callbacks import RLlibCallback

    from rllib_embed.envs.cheetah_speed_schedule import TARGET_KEY, speed_error

    class SpeedError(RLlibCallback):
        """Each evaluation's own episodes: a window of SCRATCH_EVAL_EPISODES (RLlib's default
        reduction is a slow moving average over every episode ever logged)."""

        def on_episode_end(self, *, episode, metrics_logger=None, prev_episode_chunks=None, **kwargs) -> None:
            chunks = [*(prev_episode_chunks or ()), episode]
            infos = [i for chunk in chunks for i in chunk.get_infos() if "x_velocity" in i]
            error = speed_error([i["x_velocity"] for i in infos], [i[TARGET_KEY] for i in infos])
            metrics_logger.log_value("speed_error", error, reduce="mean", window=SCRATCH_EVAL_EPISODES)
            metrics_logger.log_value("greedy_return", sum(chunk.get_return() for chunk in chunks), reduce="mean",
                                     window=SCRATCH_EVAL_EPISODES)

    return (ppo_mujoco(ENV, {"schedule": [[0, speed]], "flat_obs": True}, seed)
            .evaluation(evaluation_interval=SCRATCH_EVAL_EVERY, evaluation_duration=SCRATCH_EVAL_EPISODES,
                        evaluation_duration_unit="episodes", evaluation_config={"explore": False})
            .callbacks(SpeedError))


def run_scratch(args) -> None:
    """PPO from scratch per speed and seed, to --env-steps or until its error <= --stop-error;
    OUT/scratch_<speed>_<seed>.json, rewritten after every evaluation."""
    for speed in args.speeds:
        for seed in args.seeds:
            path = os.path.join(args.out, f"scratch_{speed}_{seed}.json")
            algo = scratch_config(speed, seed).build_algo()
            run = {"speed": speed, "seed": seed, "curve": []}
            start = time.time()
            try:
                steps = 0
                while steps < args.env_steps:
                    result = algo.train()
                    steps = int(result["env_runners"]["num_env_steps_sampled_lifetime"])
                    if result["training_iteration"] % SCRATCH_EVAL_EVERY:
                        continue  # the result keeps the last evaluation's metrics between evaluations
                    evaluation = result["evaluation"]["env_runners"]
                    run["curve"].append({"env_steps": steps, "speed_error": float(evaluation["speed_error"]),
                                         "return": float(evaluation["greedy_return"]),
                                         "wall_s": round(time.time() - start, 1)})
                    print(f"scratch {speed} m/s seed {seed}: {steps} env steps, greedy error "
                          f"{evaluation['speed_error']:.3f} m/s", flush=True)
                    os.makedirs(args.out, exist_ok=True)
                    with open(path, "w") as f:
                        json.dump(run, f, indent=1)
                    if evaluation["speed_error"] <= args.stop_error:
                        break
            finally:
                algo.stop()


def first_steps_within(curve: list, error: float):
    return next((point["env_steps"] for point in curve if point["speed_error"] <= error), None)


def first_steps_above(curve: list, episode_return: float):
    return next((point["env_steps"] for point in curve if point["return"] >= episode_return), None)


def steps_cell(steps: list, runs: list) -> str:
    return " / ".join(f"{x:,}" if x is not None else f">{r['curve'][-1]['env_steps']:,}"
                      for x, r in zip(steps, runs) if r["curve"]) or "not run"


def run_table(args) -> None:
    """OUT/transfer_cheetah.md and .png from the JSON files."""
    import glob
    with open(os.path.join(args.out, "skills.json")) as f:
        skills = json.load(f)
    scratch: dict = {}
    for path in sorted(glob.glob(os.path.join(args.out, "scratch_*.json"))):
        with open(path) as f:
            run = json.load(f)
        scratch.setdefault(run["speed"], []).append(run)
    lines = [f"Speed error in m/s (|mean x-velocity - target|, first 40 steps left out; skills: {len(EVAL_SEEDS)} "
             f"episodes, mode actions). Search: {skills['episodes']} episodes of 200 env steps. From scratch: env "
             f"steps until PPO's greedy policy is as close ({SCRATCH_EVAL_EPISODES} episodes every 20,000 env steps; "
             f"'>' where it never was, with its best error).", "",
             "| target m/s | zero-shot error | search error | from scratch: steps to zero-shot's error | "
             "to search's error | PPO's best error |",
             "| --- | --- | --- | --- | --- | --- |"]
    for row in skills["speeds"]:
        z0, s = row["zero_shot"]["speed_error"], row["search"]["speed_error"]
        runs = scratch.get(row["speed"], [])
        cells = [steps_cell([first_steps_within(r["curve"], error) for r in runs], runs) for error in (z0, s)]
        best = " / ".join(f"{min(p['speed_error'] for p in r['curve']):.3f}" for r in runs if r["curve"]) or "not run"
        lines.append(f"| {row['speed']} | {z0:.3f} | {s:.3f} | {cells[0]} | {cells[1]} | {best} |")
    lines += ["", "By the env's own return (per step -|v_x - target| - 0.05 |a|^2, 200 steps; mode actions):", "",
              "| target m/s | zero-shot return | search return | from scratch: steps to zero-shot's return | "
              "PPO's best return |", "| --- | --- | --- | --- | --- |"]
    for row in skills["speeds"]:
        z0 = row["zero_shot"]["return"]
        runs = scratch.get(row["speed"], [])
        cell = steps_cell([first_steps_above(r["curve"], z0) for r in runs], runs)
        best = " / ".join(f"{max(p['return'] for p in r['curve']):.0f}" for r in runs if r["curve"]) or "not run"
        lines.append(f"| {row['speed']} | {z0:.0f} | {row['search']['return']:.0f} | {cell} | {best} |")
    sched = skills["schedule"]["zero_shot"]
    lines += ["", f"Trained speeds, each task's own skill: " + ", ".join(
        f"{t['speed']} m/s error {t['speed_error']:.3f}" for t in skills["trained"]) + ".",
        f"Schedule 0.75 m/s then 1.75 m/s (at step 100), z following the target zero-shot: error "
        f"{sched['speed_error']:.3f} m/s (mean over the two stretches).", "",
        "![speed reached against the target speed](transfer_cheetah.png)"]
    with open(os.path.join(args.out, "transfer_cheetah.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5.5, 4))
    sweep = skills["sweep"]
    ax.plot([0, 2.5], [0, 2.5], color="0.7", lw=1, label="speed = target")
    ax.plot(sweep["targets"], sweep["speeds"], "-", color="C0", label="zero-shot z (blend of the nearest tasks)")
    ax.plot([t["speed"] for t in skills["trained"]], [t["reached"] for t in skills["trained"]], "ks",
            label="trained tasks' own z")
    ax.plot([r["speed"] for r in skills["speeds"]], [r["search"]["reached"] for r in skills["speeds"]], "o",
            color="C1", label=f"after {skills['episodes']} episodes of z search")
    ax.set_xlabel("target speed, m/s")
    ax.set_ylabel("speed reached, m/s (mean x-velocity)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "transfer_cheetah.png"), dpi=80)
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("step", choices=("skills", "scratch", "table"))
    parser.add_argument("--out", required=True, help="folder for the JSON, markdown and PNG")
    parser.add_argument("--skills", default=SKILLS, help="EmbedPG checkpoint or RLModule folder of the skills")
    parser.add_argument("--speeds", type=float, nargs="+", default=None,
                        help="held-out target speeds, m/s (skills: 0.25 0.75 1.25 1.75 2.25; scratch: 1.25)")
    parser.add_argument("--episodes", type=int, default=30, help="episodes of z search per speed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--seed", type=int, default=0, help="the search's seed")
    parser.add_argument("--env-steps", type=int, default=500_000, help="PPO from scratch: budget per run")
    parser.add_argument("--stop-error", type=float, default=0.0,
                        help="PPO from scratch: stop once its error is at most this, m/s (0: run the whole budget)")
    args = parser.parse_args()
    if args.speeds is None:
        args.speeds = HELD_OUT_SPEEDS if args.step == "skills" else [1.25]
    import torch
    torch.set_num_threads(1)
    import rllib_embed  # noqa: F401  (registers the envs)
    {"skills": run_skills, "scratch": run_scratch, "table": run_table}[args.step](args)


if __name__ == "__main__":
    main()
