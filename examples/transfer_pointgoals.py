"""Transfer, measured: new PointGoals tasks solved with trained skills versus from scratch.

    python examples/transfer_pointgoals.py --out transfer_results          # ~25 min on 2 busy cores

1. Train EmbedPG once on PointGoals, K=4 goals on the unit circle (angles 0, 90, 180,
   270 degrees), and save the checkpoint (or reuse one: --skills CKPT).
2. Two new tasks:
   - held_out: a goal the skills never trained on, (cos 45, sin 45) between goals 0 and 1;
   - sequence: visit goal 0, then goal 1, in one 25-step episode (PointGoalSequence-v0).
3. For each task and seed: RLlib's PPO over skills (`rllib_embed/SkillSpace-v0`: action z,
   the frozen pi follows it for --hold-steps env steps) and RLlib's PPO from scratch on the
   raw env (`flat_obs`), with the same PPO settings and 1000 env steps per iteration.
   Steps are env (low-level) steps: a skill-space step counts as the env steps it took.
4. Steps and wall time until the greedy policy (RLlib evaluation, explore=False, 10
   episodes after every iteration) reaches a success rate >= --target; the success of the
   last 50 training (exploring) episodes is recorded beside it. A table (markdown and
   JSON) and a PNG of the curves go to --out.

Settings measured (docs/transfer.md):
  v1 (the defaults): K=4 skills, held-out goal at 45 degrees, dense reward, hold_steps 5,
     budget 15000 env steps, tasks held_out and sequence;
  v2: --num-goals 8 --skill-iterations 700 --skill-check-every 50 --tasks held_out
      --reward sparse --held-out-angle 112.5 --hold-steps 5 --budget 30000
      (sparse: PointGoals' env_config reward "sparse", 1.0 on steps within the goal
      tolerance, for both learners; a run not solved within --budget counts as >= budget
      and makes the ratio a bound).

The skill checkpoint is trained once and shared by every seed of the high-level runs:
its cost is reported once, beside the table (the skills are the reusable asset; training
them is paid once for any number of new tasks).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time

import numpy as np
import ray

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.callbacks import EmbedPGCallbacks
from rllib_embed.embed_pg.evaluation import evaluate_per_task
from rllib_embed.transfer import SKILL_SPACE_ENV_ID

POINT_GOALS = "rllib_embed/PointGoals-v0"
TASKS = ("held_out", "sequence")
STEPS_PER_ITERATION = 1000  # env steps, for both learners
EPISODES_FOR_SUCCESS = 50  # training episodes behind the "train success" column
EVALUATION_EPISODES = 10  # greedy episodes after every iteration: the success criterion


def train_skills(out: str, iterations: int, seed: int, num_goals: int = 4, check_every: int = 0,
                 latent_dim: int = 4) -> tuple[str, dict]:
    """EmbedPG on PointGoals with ``num_goals`` goals on the unit circle, ``iterations`` at most.

    ``check_every`` > 0: every that many iterations the mean skill of every task is evaluated
    (10 greedy episodes each) and training stops once all tasks succeed >= 0.9.
    """
    env_config = {"num_tasks": num_goals}
    config = (EmbedPGConfig()
              .environment(POINT_GOALS, env_config=env_config)
              .env_runners(num_env_runners=0, rollout_fragment_length=25)
              .training(copies_per_task=2, latent_dim=latent_dim)
              .debugging(seed=seed))
    algo = config.build_algo()
    start = time.time()
    try:
        for i in range(iterations):
            result = algo.train()
            if (i + 1) % 50 == 0:
                print(f"skills: iteration {i + 1}, {int(result['env_runners']['num_env_steps_sampled_lifetime'])} "
                      f"env steps, {time.time() - start:.0f}s", flush=True)
            if check_every and (i + 1) % check_every == 0:
                evaluation = evaluate_per_task(algo.get_module(), POINT_GOALS, env_config,
                                               episodes_per_task=10, skill="mean")
                success = [evaluation[k]["success_mean"] for k in sorted(evaluation)]
                print(f"skills: iteration {i + 1}, mean-skill success per task {success}", flush=True)
                if min(success) >= 0.9:
                    break
        wall = time.time() - start
        steps = int(result["env_runners"]["num_env_steps_sampled_lifetime"])
        evaluation = evaluate_per_task(algo.get_module(), POINT_GOALS, env_config,
                                       episodes_per_task=10, skill="mean")
        path = algo.save_to_path(os.path.join(os.path.abspath(out), "skills"))
    finally:
        algo.stop()
    return path, {"num_goals": num_goals, "iterations": i + 1, "env_steps": steps, "wall_s": round(wall, 1),
                  "success_per_task": [evaluation[k]["success_mean"] for k in sorted(evaluation)]}


def ppo_config(env, env_config, steps_per_iteration: int, seed: int):
    from ray.rllib.algorithms.ppo import PPOConfig
    return (PPOConfig()
            .environment(env, env_config=env_config)
            .env_runners(num_env_runners=0)
            .callbacks(EmbedPGCallbacks)  # per-task success, from info["success"]
            .reporting(metrics_num_episodes_for_smoothing=EPISODES_FOR_SUCCESS)
            .evaluation(evaluation_interval=1, evaluation_duration=EVALUATION_EPISODES,
                        evaluation_duration_unit="episodes", evaluation_num_env_runners=0,
                        evaluation_config={"explore": False})
            .training(train_batch_size_per_learner=steps_per_iteration, minibatch_size=steps_per_iteration // 5,
                      num_epochs=10, lr=1e-3, gamma=0.99, entropy_coeff=0.0)
            .rl_module(model_config={"fcnet_hiddens": [64, 64]})
            .debugging(seed=seed))


def _task_success(runners: dict) -> float:
    return float(runners.get("tasks", {}).get("task_0", {}).get("success_mean", float("nan")))


def task_env(task: str, held_out_angle: float, reward: str) -> tuple[str, dict]:
    """The new task's env id and config: a held-out goal on the unit circle at ``held_out_angle``
    degrees, or the two-goal sequence (dense reward only)."""
    if task == "sequence":
        return "rllib_embed/PointGoalSequence-v0", {}
    angle = math.radians(held_out_angle)
    return POINT_GOALS, {"goals": [[math.cos(angle), math.sin(angle)]], "reward": reward}


def run(learner: str, task: str, seed: int, skills: str, hold_steps: int, budget: int, target: float,
        held_out_angle: float = 45.0, reward: str = "dense") -> dict:
    """One PPO run until success >= target or ``budget`` env steps; its curve and steps to success."""
    env, env_config = task_env(task, held_out_angle, reward)
    if learner == "skills":
        config = ppo_config(SKILL_SPACE_ENV_ID, {"checkpoint": skills, "env": env, "env_config": env_config,
                                                  "hold_steps": hold_steps},
                            STEPS_PER_ITERATION // hold_steps, seed)
        env_steps_per_step = hold_steps  # every episode is whole holds here (25 = 5 x 5)
    else:
        config = ppo_config(env, {**env_config, "flat_obs": True}, STEPS_PER_ITERATION, seed)
        env_steps_per_step = 1
    algo = config.build_algo()
    curve, solved = [], None
    start = time.time()
    try:
        while not curve or curve[-1]["env_steps"] < budget:
            result = algo.train()
            runners = result["env_runners"]
            greedy = result.get("evaluation", {}).get("env_runners", {})
            point = {"env_steps": int(runners["num_env_steps_sampled_lifetime"]) * env_steps_per_step,
                     "wall_s": round(time.time() - start, 2),
                     "success": _task_success(greedy),
                     "return": float(greedy.get("episode_return_mean", float("nan"))),
                     "train_success": _task_success(runners),
                     "train_return": float(runners.get("episode_return_mean", float("nan")))}
            curve.append(point)
            if len(curve) % 5 == 0:
                print(f"  {task} {learner} seed {seed}: {point}", flush=True)
            if solved is None and point["success"] >= target:
                solved = point
                break
    finally:
        algo.stop()
    print(f"{task:9s} {learner:7s} seed {seed}: "
          + (f"success {solved['success']:.2f} at {solved['env_steps']} env steps, {solved['wall_s']:.0f}s"
             if solved else f"not solved in {curve[-1]['env_steps']} env steps (success {curve[-1]['success']:.2f})"),
          flush=True)
    return {"learner": learner, "task": task, "seed": seed, "curve": curve,
            "steps_to_success": solved["env_steps"] if solved else None,
            "wall_s_to_success": solved["wall_s"] if solved else None}


def _ratio(skills_steps, scratch_steps, budget: int) -> tuple[float | None, str | None]:
    """skills / scratch steps for one seed; a run not solved counts as ``budget`` steps, which makes
    the ratio a bound ("<=" where only scratch missed, ">=" where only skills missed); both missed: None."""
    if skills_steps is None and scratch_steps is None:
        return None, None
    return _ratio_bound(budget if skills_steps is None else skills_steps,
                        budget if scratch_steps is None else scratch_steps,
                        skills_steps is None, scratch_steps is None)


def _ratio_bound(skills_steps: float, scratch_steps: float, skills_missed: bool,
                 scratch_missed: bool) -> tuple[float | None, str | None]:
    if skills_missed and scratch_missed:
        return None, None
    bound = ">=" if skills_missed else "<=" if scratch_missed else "="
    return skills_steps / scratch_steps, bound


def summarise(runs: list[dict], tasks: list[str], target: float, skills_info: dict, args) -> tuple[dict, str]:
    table = {}
    for task in tasks:
        rows = {learner: [r for r in runs if r["task"] == task and r["learner"] == learner]
                for learner in ("skills", "scratch")}
        per_seed = []
        for sk, sc in zip(rows["skills"], rows["scratch"]):
            ratio, bound = _ratio(sk["steps_to_success"], sc["steps_to_success"], args.budget)
            per_seed.append({"seed": sk["seed"], "skills_steps": sk["steps_to_success"],
                             "scratch_steps": sc["steps_to_success"], "ratio": ratio, "ratio_bound": bound,
                             "skills_wall_s": sk["wall_s_to_success"], "scratch_wall_s": sc["wall_s_to_success"],
                             "skills_wall_s_total": sk["curve"][-1]["wall_s"],
                             "scratch_wall_s_total": sc["curve"][-1]["wall_s"]})
        # A run not solved within the budget counts as >= budget: the mean ratio is then a bound.
        at_least = lambda v: args.budget if v is None else v  # noqa: E731
        any_solved = any(r["skills_steps"] or r["scratch_steps"] for r in per_seed)
        mean_skills = float(np.mean([at_least(r["skills_steps"]) for r in per_seed])) if any_solved else None
        mean_scratch = float(np.mean([at_least(r["scratch_steps"]) for r in per_seed])) if any_solved else None
        ratio, bound = None, None
        if any_solved:
            ratio, bound = _ratio_bound(mean_skills, mean_scratch,
                                        any(r["skills_steps"] is None for r in per_seed),
                                        any(r["scratch_steps"] is None for r in per_seed))
        table[task] = {"per_seed": per_seed, "mean_skills_steps": mean_skills, "mean_scratch_steps": mean_scratch,
                       "ratio_of_means": ratio if bound else None, "ratio_of_means_bound": bound}
    summary = {"held_out_angle_deg": args.held_out_angle, "reward": args.reward, "target_success": target, "evaluation_episodes": EVALUATION_EPISODES,
               "train_success_episodes": EPISODES_FOR_SUCCESS,
               "hold_steps": args.hold_steps, "budget_env_steps": args.budget, "skills": skills_info,
               "tasks": table}
    lines = [f"Success = the greedy policy's success rate over {EVALUATION_EPISODES} evaluation episodes after an "
             f"iteration >= {target}; steps are env (low-level) training steps; wall times under load "
             f"(2 cores shared with other jobs).", "",
             "| task | seed | with skills: steps | from scratch: steps | ratio | with skills: wall s | "
             "from scratch: wall s |", "| --- | --- | --- | --- | --- | --- | --- |"]
    fmt = lambda v, f="{:.0f}": "not reached" if v is None else f.format(v)  # noqa: E731
    steps = lambda v: f"not reached (>= {args.budget})" if v is None else f"{v:.0f}"  # noqa: E731
    wall = lambda v, total: f"not reached ({total:.0f} s run)" if v is None else f"{v:.0f}"  # noqa: E731
    ratio = lambda v, bound: "not reached" if bound is None else (  # noqa: E731
        f"{v:.2f}" if bound == "=" else f"{bound} {v:.2f}")
    for task, entry in table.items():
        for r in entry["per_seed"]:
            lines.append(f"| {task} | {r['seed']} | {steps(r['skills_steps'])} | {steps(r['scratch_steps'])} | "
                         f"{ratio(r['ratio'], r['ratio_bound'])} | {wall(r['skills_wall_s'], r['skills_wall_s_total'])} | "
                         f"{wall(r['scratch_wall_s'], r['scratch_wall_s_total'])} |")
        missed = {k: any(r[k] is None for r in entry["per_seed"]) for k in ("skills_steps", "scratch_steps")}
        mean = lambda v, key: fmt(v) if v is None or not missed[key] else f">= {v:.0f}"  # noqa: E731
        lines.append(f"| {task} | mean | {mean(entry['mean_skills_steps'], 'skills_steps')} | "
                     f"{mean(entry['mean_scratch_steps'], 'scratch_steps')} | "
                     f"{ratio(entry['ratio_of_means'], entry['ratio_of_means_bound'])} | | |")
    lines += ["", f"Budget {args.budget} env steps per run; a run not solved within it counts as >= {args.budget} "
                  f"in the means and makes the ratio a bound. Held-out goal at {args.held_out_angle} degrees, "
                  f"{args.reward} reward (both learners), hold_steps {args.hold_steps}."]
    if skills_info.get("checkpoint"):
        lines += ["", f"Skills: the checkpoint {skills_info['checkpoint']} (--skills), shared by all seeds; its "
                      f"training is not part of this run."]
    else:
        lines += ["", f"Skills: EmbedPG on PointGoals K={skills_info['num_goals']}, {skills_info['iterations']} iterations, "
                  f"{skills_info['env_steps']} env steps, {skills_info['wall_s']} s, evaluation success per task "
                  f"(mean skill) {skills_info['success_per_task']}; trained once, shared by all seeds."]
    return summary, "\n".join(lines) + "\n"


def plot(runs: list[dict], tasks: list[str], target: float, path: str) -> None:
    """Greedy success (top) and greedy return (bottom) against env steps, one column per task."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, len(tasks), figsize=(5.0 * len(tasks), 6.5), dpi=100, squeeze=False)
    colors = {"skills": "tab:blue", "scratch": "tab:red"}
    for column, task in enumerate(tasks):
        first = min(x["seed"] for x in runs if x["task"] == task)
        for r in (r for r in runs if r["task"] == task):
            xs = [p["env_steps"] for p in r["curve"]]
            label = f"PPO {'over skills' if r['learner'] == 'skills' else 'from scratch'}" if r["seed"] == first else None
            axes[0, column].plot(xs, [p["success"] for p in r["curve"]], color=colors[r["learner"]], alpha=0.8,
                                 marker=".", label=label)
            axes[1, column].plot(xs, [p["return"] for p in r["curve"]], color=colors[r["learner"]], alpha=0.8,
                                 marker=".", label=label)
        axes[0, column].axhline(target, color="gray", linestyle="--", linewidth=0.8)
        axes[0, column].set_title(task.replace("_", " "))
        axes[0, column].set_ylabel(f"greedy success ({EVALUATION_EPISODES} episodes)")
        axes[1, column].set_ylabel("greedy episode return")
        axes[1, column].set_xlabel("env steps (low-level)")
        axes[0, column].legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="transfer_results")
    parser.add_argument("--skills", help="an EmbedPG checkpoint to reuse instead of training one")
    parser.add_argument("--skill-iterations", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="seeds run: first-seed .. first-seed + seeds - 1")
    parser.add_argument("--hold-steps", type=int, default=5)
    parser.add_argument("--budget", type=int, default=15_000, help="env steps per run before giving up")
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--tasks", nargs="+", choices=sorted(TASKS), default=list(TASKS))
    parser.add_argument("--num-goals", type=int, default=4, help="K: goals on the unit circle the skills train on")
    parser.add_argument("--latent-dim", type=int, default=4,
                        help="the skills' latent_dim (docs/transfer.md's runs: 4, also for --num-goals 8; the high-level "
                             "learner's action has this many numbers)")
    parser.add_argument("--skill-check-every", type=int, default=0,
                        help="stop skill training early once the mean skill solves every goal, checked every N "
                             "iterations (0: train --skill-iterations)")
    parser.add_argument("--held-out-angle", type=float, default=45.0, help="the held-out goal's angle, degrees")
    parser.add_argument("--reward", choices=("dense", "sparse"), default="dense",
                        help="the held-out task's reward, for both learners: dense = minus the distance, "
                             "sparse = 1 on steps within the goal tolerance")
    args = parser.parse_args()
    if 25 % args.hold_steps:
        parser.error("--hold-steps must divide the 25-step episodes, so env steps = hold_steps x skill steps")
    if args.reward == "sparse" and "sequence" in args.tasks:
        parser.error("--reward sparse applies to the held_out task only: pass --tasks held_out")
    if args.num_goals < 1:
        parser.error("--num-goals must be >= 1")
    os.makedirs(args.out, exist_ok=True)
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=500 * 1024**2)
    if args.skills:
        skills, skills_info = args.skills, {"num_goals": args.num_goals, "iterations": None, "env_steps": None, "wall_s": None,
                                            "success_per_task": None, "checkpoint": args.skills}
    else:
        skills, skills_info = train_skills(args.out, args.skill_iterations, seed=0, num_goals=args.num_goals,
                                           check_every=args.skill_check_every, latent_dim=args.latent_dim)
    print("skills:", skills, skills_info, flush=True)
    runs = []
    for task in args.tasks:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for learner in ("skills", "scratch"):
                runs.append(run(learner, task, seed, skills, args.hold_steps, args.budget, args.target,
                                args.held_out_angle, args.reward))
                with open(os.path.join(args.out, "runs.json"), "w") as f:
                    json.dump(runs, f)
    summary, markdown = summarise(runs, args.tasks, args.target, skills_info, args)
    with open(os.path.join(args.out, "transfer.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(args.out, "transfer.md"), "w") as f:
        f.write(markdown)
    plot(runs, args.tasks, args.target, os.path.join(args.out, "transfer_curves.png"))
    print(markdown)
    ray.shutdown()


if __name__ == "__main__":
    main()
