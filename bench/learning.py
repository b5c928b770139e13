"""Learning speed: env steps and wall time until every task of PointGoals is solved.

    python3 bench/learning.py                          # K=4 and K=8, 3 seeds, 3 methods
    python3 bench/learning.py --num-tasks 4 --seeds 0 1 2 --methods embedpg_seed ppo
    python3 bench/learning.py --quick                  # K=4, one seed, a few iterations

Methods: EmbedPG with the `seed` estimator, EmbedPG `unbiased` (both at the settings of
docs/learning.md: D=2, I=25, defaults otherwise) and multi-task PPO (RLlib's PPO on the
baselines' view: observation ++ one-hot task id; same 2*K envs, 1000-step batches,
10 epochs, minibatch 128, lr 3e-4, the regime that learned PointGoals in docs/learning.md).

"Solved": every task's success is 1.0 in a deterministic evaluation (each task's mean
skill and the policy's mean action for EmbedPG, PPO's mean action with the task's one-hot),
`--eval-episodes` episodes per task, run every `--eval-every` env steps. A run stops when
solved or at `--budget-k4`/`--budget-k8` env steps. Curves (fraction of tasks solved in
the evaluation and mean training return against env steps) go to a PNG beside the JSON.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import ENV, add_common_args, embedpg_config, init_ray, load_note, machine, median, ppo_config, quiet_warnings, \
    table, write_outputs

METHODS = ("embedpg_seed", "embedpg_unbiased", "ppo")
COPIES, FRAGMENT = 2, 25
PPO_BATCH = 1000


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-tasks", type=int, nargs="+", default=[4, 8])
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--budget-k4", type=int, default=100_000, help="env steps per run at K<=4")
    p.add_argument("--budget-k8", type=int, default=160_000, help="env steps per run at K>4")
    p.add_argument("--eval-every", type=int, default=10_000, help="env steps between evaluations")
    p.add_argument("--eval-episodes", type=int, default=3, help="episodes per task per evaluation")
    p.add_argument("--quick", action="store_true", help="K=4, seed 0, ~1000 env steps per method")
    p.add_argument("--out", help="JSON path (default bench/results/learning.json; .md and .png beside it)")
    p.add_argument("--render", metavar="JSON", help="only rewrite the table and PNG of a saved result")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.num_tasks, args.seeds = [4], [0]
        args.budget_k4 = args.budget_k8 = 1000
        args.eval_every, args.eval_episodes = 500, 1
    return args


def build(method: str, num_tasks: int, seed: int):
    from rllib_embed.embed_pg.callbacks import EmbedPGCallbacks
    if method.startswith("embedpg"):
        return embedpg_config(num_tasks=num_tasks, copies=COPIES, fragment=FRAGMENT, seed=seed,
                              estimator=method.split("_", 1)[1]).build_algo()
    config = ppo_config(num_tasks=num_tasks, copies=COPIES, fragment=PPO_BATCH // (num_tasks * COPIES), seed=seed,
                        num_epochs=10, minibatch_size=128, lr=3e-4)
    return config.callbacks(EmbedPGCallbacks).build_algo()  # per-task training metrics, as EmbedPG's


def evaluate(method: str, algo, num_tasks: int, episodes: int, seed: int) -> list:
    """Success rate per task with deterministic actions (and EmbedPG's mean skill)."""
    if method.startswith("embedpg"):
        from rllib_embed.embed_pg.evaluation import evaluate_per_task
        res = evaluate_per_task(algo.get_module(), ENV, {"num_tasks": num_tasks}, episodes_per_task=episodes,
                                skill="mean", seed=seed)
        return [res[k].get("success_mean", 0.0) for k in range(num_tasks)]
    import torch
    from ray.rllib.core.columns import Columns
    from rllib_embed.embed_pg.env_factory import make_env
    module, env = algo.get_module(), make_env(ENV, {"num_tasks": num_tasks, "flat_obs": True})
    dist_cls = module.get_inference_action_dist_cls()
    rates = []
    for k in range(num_tasks):
        env.set_task(k)
        wins = []
        for e in range(episodes):
            obs, info = env.reset(seed=seed * 100_003 + k * 1_009 + e)
            done = False
            while not done:
                with torch.no_grad():
                    out = module.forward_inference({Columns.OBS: torch.as_tensor(obs)[None]})
                action = dist_cls.from_logits(out[Columns.ACTION_DIST_INPUTS]).to_deterministic().sample()[0].numpy()
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            wins.append(float(info.get("success", 0.0)))
        rates.append(float(np.mean(wins)))
    env.close()
    return rates


def run_one(method: str, num_tasks: int, seed: int, budget: int, args) -> dict:
    algo = build(method, num_tasks, seed)
    curve, solved_at, train_wall = [], None, 0.0
    next_eval = args.eval_every
    steps = 0
    try:
        while steps < budget:
            start = time.perf_counter()
            result = algo.train()
            train_wall += time.perf_counter() - start
            runners = result.get("env_runners", {})
            steps = int(runners.get("num_env_steps_sampled_lifetime", steps))
            if steps >= next_eval or steps >= budget:
                next_eval += args.eval_every
                success = evaluate(method, algo, num_tasks, args.eval_episodes, seed)
                tasks = runners.get("tasks", {})
                curve.append({"env_steps": steps, "train_wall_s": round(train_wall, 2),
                              "eval_min_success": min(success), "eval_success": success,
                              "train_return_mean": runners.get("episode_return_mean"),
                              "train_min_success": tasks.get("min_success_mean")})
                print(f"{method} K={num_tasks} seed={seed} steps={steps} wall={train_wall:.0f}s "
                      f"eval={success}", file=sys.stderr, flush=True)
                if min(success) >= 1.0:
                    solved_at = curve[-1]
                    break
    finally:
        algo.stop()
    return {"method": method, "num_tasks": num_tasks, "seed": seed, "budget": budget,
            "solved": solved_at is not None,
            "steps_to_solve": solved_at["env_steps"] if solved_at else None,
            "wall_s_to_solve": solved_at["train_wall_s"] if solved_at else None,
            "curve": curve}


def summarise(runs: list) -> list:
    rows = []
    for k in sorted({r["num_tasks"] for r in runs}):
        for method in METHODS:
            sel = [r for r in runs if r["num_tasks"] == k and r["method"] == method]
            if not sel:
                continue
            solved = [r for r in sel if r["solved"]]
            steps = [r["steps_to_solve"] for r in solved]
            walls = [r["wall_s_to_solve"] for r in solved]
            rows.append({"num_tasks": k, "method": method, "runs": len(sel), "solved": len(solved),
                         "budget": sel[0]["budget"],
                         "median_steps": median(steps) if steps else None,
                         "min_steps": min(steps) if steps else None, "max_steps": max(steps) if steps else None,
                         "median_wall_s": median(walls) if walls else None,
                         "min_wall_s": min(walls) if walls else None, "max_wall_s": max(walls) if walls else None,
                         # Tasks with evaluation success 1.0 at each run's last evaluation.
                         "tasks_solved_at_end": [sum(x >= 1.0 for x in r["curve"][-1]["eval_success"])
                                                 for r in sel if r["curve"]]})
    return rows


def plot(runs: list, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    ks = sorted({r["num_tasks"] for r in runs})
    fig, axes = plt.subplots(2, len(ks), figsize=(5.5 * len(ks), 7), squeeze=False)
    colours = {"embedpg_seed": "tab:blue", "embedpg_unbiased": "tab:green", "ppo": "tab:red"}
    for col, k in enumerate(ks):
        for r in (r for r in runs if r["num_tasks"] == k):
            x = [c["env_steps"] for c in r["curve"]]
            label = r["method"] if r["seed"] == min(q["seed"] for q in runs if q["method"] == r["method"]) else None
            axes[0][col].plot(x, [sum(v >= 1.0 for v in c["eval_success"]) / k for c in r["curve"]],
                              color=colours[r["method"]], alpha=0.7, label=label, marker=".")
            axes[1][col].plot(x, [c["train_return_mean"] if c["train_return_mean"] is not None else np.nan
                                  for c in r["curve"]], color=colours[r["method"]], alpha=0.7, label=label)
        axes[0][col].set_title(f"PointGoals K={k}: fraction of tasks solved (evaluation)")
        axes[1][col].set_title(f"PointGoals K={k}: mean training episode return")
        for ax in axes[:, col]:
            ax.set_xlabel("env steps")
            ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def markdown(data: dict, png_name: str) -> str:
    s = data["settings"]
    rows = []
    for r in data["summary"]:
        def rng(lo, hi, fmt):
            return "-" if lo is None else f"{fmt.format(lo)}-{fmt.format(hi)}"
        rows.append([r["num_tasks"], r["method"], f"{r['solved']}/{r['runs']}", r["budget"],
                     "-" if r["median_steps"] is None else int(r["median_steps"]),
                     rng(r["min_steps"], r["max_steps"], "{:.0f}"),
                     "-" if r["median_wall_s"] is None else round(r["median_wall_s"], 1),
                     rng(r["min_wall_s"], r["max_wall_s"], "{:.0f}"),
                     " ".join(f"{n}/{r['num_tasks']}" for n in r["tasks_solved_at_end"])])
    return (f"Seeds {s['seeds']}; evaluation every {s['eval_every']} env steps, {s['eval_episodes']} episodes per "
            f"task; wall = training time only (evaluations excluded); {load_note(s)}). Median and "
            f"range over the solved runs.\n\n"
            + table(["K", "method", "solved", "budget (env steps)", "env steps to solve (median)", "range",
                     "wall s to solve (median)", "range", "tasks solved at the last evaluation, per seed"], rows)
            + f"\n![learning curves]({png_name})\n")


def render(data: dict, out: str) -> None:
    png = os.path.splitext(out)[0] + ".png"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    plot(data["runs"], png)
    write_outputs("learning", data, markdown(data, os.path.basename(png)), out)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.render:  # tables and curves again from a saved JSON, without training
        with open(args.render) as f:
            data = json.load(f)
        data["summary"] = summarise(data["runs"])
        render(data, args.out or args.render)
        return data
    with quiet_warnings():
        init_ray(torch_threads=args.torch_threads)
        settings = {"env": ENV, "copies_per_task": COPIES, "rollout_fragment_length": FRAGMENT,
                    "ppo": {"train_batch": PPO_BATCH, "num_epochs": 10, "minibatch_size": 128, "lr": 3e-4},
                    "seeds": args.seeds, "eval_every": args.eval_every, "eval_episodes": args.eval_episodes,
                    "budget_k4": args.budget_k4, "budget_k8": args.budget_k8, "machine_before": machine()}
        runs = []
        for k in args.num_tasks:
            for seed in args.seeds:
                for method in args.methods:  # interleaved, so load hits every method alike
                    budget = args.budget_k4 if k <= 4 else args.budget_k8
                    runs.append(run_one(method, k, seed, budget, args))
        settings["machine_after"] = machine()
    data = {"runs": runs, "summary": summarise(runs), "settings": settings}
    render(data, args.out or os.path.join(common.RESULTS_DIR, "learning.json"))
    return data


if __name__ == "__main__":
    main()
