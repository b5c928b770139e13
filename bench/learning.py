"""Learning speed, side by side: EmbedPG's updates and estimators against multi-task PPO.

    python3 bench/learning.py                                   # PointGoals K=4 and K=8, seeds 0-2
    python3 bench/learning.py --num-tasks 4 --methods literal_seed ppo --out bench/results/x.json
    python3 bench/learning.py --env HalfCheetahDir-v0 --seeds 0 --methods ppo
    python3 bench/learning.py --env MetaWorldMT1-v0 --quick     # one seed, one short iteration per method
    python3 bench/learning.py --render a.json b.json --out merged.json   # tables and PNG of saved runs
    python3 bench/learning.py --render new.json old.json:ppo --out merged.json  # old.json's PPO runs only

Families (`--env`): see bench/families.py (each family's PPO settings are the ones published for
its body; the generality suite's families, bench/suite_envs.py, are bodies nobody tuned EmbedPG
for). Methods (`--methods`): EmbedPG's `update` x `estimator` (literal_seed, literal_unbiased,
clipped_seed, clipped_unbiased) and `ppo`; the clipped ones are the general recipe,
`EmbedPGConfig.from_ppo` of the family's PPO config (its env copies, batch and settings).
`--training JSON` adds EmbedPG training fields (e.g. '{"kl_coeff": 0.0}'); `--train-batch N`
replaces PPO's env steps per batch for the clipped methods. Every method samples from the same
K*D env copies on one local env runner for the same env-step budget.

Evaluation every `--eval-every` env steps: `--eval-episodes` episodes per task, each task
pinned, with deterministic and with sampled actions (EmbedPG: each task's mean skill;
PPO: its one-hot task id and its observation filter's statistics). Success families
(PointGoals, Meta-World): a run is "solved" when every task's deterministic evaluation
success is 1.0 (it then stops); the first evaluation where the sampled one is all 1.0 is
recorded as well. Robot families run to the budget; their tables show each task's
evaluation return (and success) at the family's checkpoints. The JSON is rewritten after
every run, so a killed run keeps the ones before it.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import add_common_args, init_ray, load_note, machine, median, quiet_warnings, table, write_outputs
from families import FAMILIES, METHOD_ALIASES, METHODS, check_methods, check_num_tasks, default_num_tasks, \
    embedpg_config, family_of, layout, ppo_config, ppo_settings_for_json

MODES = ("deterministic", "sampled")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", default="PointGoals-v0", help=f"task family: {', '.join(FAMILIES)}")
    p.add_argument("--num-tasks", type=int, nargs="+", help="K values (default: the family's)")
    p.add_argument("--methods", nargs="+", help=f"of {', '.join(METHODS)} (default: all this checkout builds)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--budget", type=int, help="env steps per run (default: the family's, by K)")
    p.add_argument("--eval-every", type=int, help="env steps between evaluations (default: the family's)")
    p.add_argument("--eval-episodes", type=int, default=3, help="episodes per task and action mode per evaluation")
    p.add_argument("--training", default="{}", help="JSON: extra EmbedPGConfig.training fields for EmbedPG methods")
    p.add_argument("--train-batch", type=int, help="env steps per batch of the clipped EmbedPG methods "
                                                   "(I = train_batch / (K*D); default: the family's PPO batch)")
    p.add_argument("--quick", action="store_true", help="smallest K, seed 0, about one iteration per method")
    p.add_argument("--out", help="JSON path (default bench/results/learning_<family>.json; .md and .png beside it)")
    p.add_argument("--render", metavar="JSON", nargs="+", help="only rewrite the tables and PNG of saved results "
                                                                "(several files: their runs merged; FILE:m1,m2 takes "
                                                                "only those methods' runs of FILE)")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.render:
        return args
    if args.train_batch is not None and args.train_batch < 1:
        p.error(f"--train-batch: env steps per batch, an integer >= 1; got {args.train_batch}")
    args.family_name, args.family = family_of(args.env)
    fam = args.family
    if args.methods is None:
        args.methods = list(METHODS)
    check_methods(args.methods)
    args.num_tasks = args.num_tasks or default_num_tasks(fam)
    check_num_tasks(args.family_name, fam, args.num_tasks)
    try:
        args.training = json.loads(args.training)
        if not isinstance(args.training, dict):
            raise ValueError
    except ValueError:
        p.error(f"--training: a JSON object of EmbedPGConfig.training fields; got {args.training!r}")
    for name in ("budget", "eval_every", "eval_episodes"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')}: must be >= 1; got {getattr(args, name)}")
    if args.quick:
        args.num_tasks, args.seeds = [min(args.num_tasks)], [0]
        args.budget = fam.quick_budget
        args.eval_every, args.eval_episodes = fam.quick_budget, 1
    args.eval_every = args.eval_every or fam.eval_every
    return args


def build(family, method: str, num_tasks: int, seed: int, training: dict, train_batch=None):
    if method == "ppo":
        return ppo_config(family, num_tasks, seed).build_algo()
    return embedpg_config(family, method, num_tasks, seed, training, train_batch=train_batch).build_algo()


def evaluate(method: str, algo, episodes: int, seed: int) -> dict:
    """{mode: {"return": [per task], "success": [per task] (where the env reports it)}}."""
    out = {}
    for mode in MODES:
        explore = mode == "sampled"
        if method == "ppo":
            from rllib_embed.cli.policy_rollouts import evaluate_live_policy
            rows = evaluate_live_policy(algo, episodes, seed, explore=explore)
        else:
            from rllib_embed.embed_pg.evaluation import evaluate_algorithm_per_task
            res = evaluate_algorithm_per_task(algo, episodes_per_task=episodes, skill="mean", seed=seed,
                                              explore=explore)
            rows = [res[k] for k in sorted(res)]
        out[mode] = {"return": [round(r["episode_return_mean"], 2) for r in rows]}
        if all("success_mean" in r for r in rows):
            out[mode]["success"] = [r["success_mean"] for r in rows]
    return out


def skill_means(algo):
    """Each task's skill mean mu(t), [K, latent_dim] (numpy)."""
    import torch
    module = algo.get_module()
    with torch.no_grad():
        return module.embedding_params(torch.eye(module.num_tasks))[0].numpy()


def skill_diagnostics(algo, result: dict, previous) -> dict:
    """What the skill space looks like at an evaluation: how far the skill means are apart and how
    far they moved since the last evaluation, p(z|t)'s mean std, and q's task accuracy."""
    import torch
    means = skill_means(algo)
    module = algo.get_module()
    with torch.no_grad():
        log_std = module.embedding_params(torch.eye(module.num_tasks))[1].numpy()
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)[np.triu_indices(len(means), 1)]
    learner = result.get("learners", {}).get("default_policy", {})
    return {"min_distance": round(float(gaps.min()), 3) if gaps.size else None,
            "moved": round(float(np.linalg.norm(means - previous, axis=1).max()), 3),
            "std": round(float(np.exp(log_std).mean()), 4),
            "q_task_accuracy": learner.get("q_task_accuracy"), "_means": means}


def all_solved(point: dict, mode: str) -> bool:
    success = point["eval"][mode].get("success")
    return bool(success) and min(success) >= 1.0


def run_one(family_name: str, method: str, num_tasks: int, seed: int, budget: int, args, save=None) -> dict:
    """One training run to `budget` env steps (or to solved); `save(run)` after each evaluation
    (the run so far, `"finished": False`), so a long run killed midway keeps its evaluations."""
    family = FAMILIES[family_name]
    algo = build(family, method, num_tasks, seed, args.training, args.train_batch)
    run = {"family": family_name, "method": method, "num_tasks": num_tasks, "seed": seed, "budget": budget,
           "solved": False, "steps_to_solve": None, "wall_s_to_solve": None, "steps_to_solve_sampled": None,
           "curve": [], "finished": False}
    if method != "ppo":  # the run's own skill dimension (a default, max(4, K), is in no settings field)
        run["latent_dim"] = algo.config.resolved_latent_dim
    next_eval, steps, train_wall = args.eval_every, 0, 0.0
    previous = skill_means(algo) if method != "ppo" else None
    try:
        while steps < budget:
            start = time.perf_counter()
            result = algo.train()
            train_wall += time.perf_counter() - start
            runners = result.get("env_runners", {})
            steps = int(runners.get("num_env_steps_sampled_lifetime", steps))
            if steps < next_eval and steps < budget:
                continue
            while next_eval <= steps:
                next_eval += args.eval_every
            point = {"env_steps": steps, "train_wall_s": round(train_wall, 2),
                     "eval": evaluate(method, algo, args.eval_episodes, seed),
                     "train_return_mean": runners.get("episode_return_mean"),
                     "train_min_success": runners.get("tasks", {}).get("min_success_mean")}
            if method != "ppo":
                point["skills"] = skill_diagnostics(algo, result, previous)
                previous = point["skills"].pop("_means")
            run["curve"].append(point)
            print(f"{family_name} {method} K={num_tasks} seed={seed} steps={steps} wall={train_wall:.0f}s "
                  f"eval={json.dumps(point['eval'])}", file=sys.stderr, flush=True)
            if run["steps_to_solve_sampled"] is None and all_solved(point, "sampled"):
                run["steps_to_solve_sampled"] = steps
            if all_solved(point, "deterministic"):
                run.update(solved=True, steps_to_solve=steps, wall_s_to_solve=point["train_wall_s"])
                break
            if save is not None and steps < budget:
                save(run)
    finally:
        algo.stop()
    run["finished"] = True
    return run


# ---- older result files --------------------------------------------------------------


def upgrade(run: dict, settings: dict) -> dict:
    """A run of an older result file in today's layout (method names, deterministic-only evaluations)."""
    run = dict(run)
    run["method"] = METHOD_ALIASES.get(run["method"], run["method"])
    run.setdefault("family", family_of(settings.get("env", "PointGoals-v0"))[0])
    run.setdefault("steps_to_solve_sampled", None)
    run["curve"] = [c if "eval" in c else {**c, "eval": {"deterministic": {"success": c["eval_success"]}}}
                    for c in run["curve"]]
    return run


# ---- summaries, tables and curves ------------------------------------------------------


def _groups(runs: list):
    for fam in sorted({r["family"] for r in runs}):
        for k in sorted({r["num_tasks"] for r in runs if r["family"] == fam}):
            for method in METHODS:
                sel = [r for r in runs if r["family"] == fam and r["num_tasks"] == k and r["method"] == method]
                if sel:
                    yield fam, k, method, sel


def summarise(runs: list) -> list:
    """Per (family, K, method): solved runs and steps to solve (success families)."""
    rows = []
    for fam, k, method, sel in _groups(runs):
        solved = [r for r in sel if r["solved"]]
        steps = [r["steps_to_solve"] for r in solved]
        walls = [r["wall_s_to_solve"] for r in solved]
        sampled = [r["steps_to_solve_sampled"] for r in sel if r.get("steps_to_solve_sampled") is not None]
        last = [r["curve"][-1]["eval"]["deterministic"] for r in sel if r["curve"]]
        rows.append({"family": fam, "num_tasks": k, "method": method, "runs": len(sel), "solved": len(solved),
                     "budget": sel[0]["budget"],
                     "median_steps": median(steps) if steps else None,
                     "min_steps": min(steps) if steps else None, "max_steps": max(steps) if steps else None,
                     "median_wall_s": median(walls) if walls else None,
                     "min_wall_s": min(walls) if walls else None, "max_wall_s": max(walls) if walls else None,
                     "solved_sampled": len(sampled), "median_steps_sampled": median(sampled) if sampled else None,
                     # Tasks with deterministic evaluation success 1.0 at each run's last evaluation.
                     "tasks_solved_at_end": [sum(x >= 1.0 for x in e["success"]) for e in last if "success" in e]})
    return rows


def at_checkpoints(run: dict, checkpoints) -> list:
    """(checkpoint, evaluation point) for each checkpoint: the first evaluation at or after it; and the
    run's last evaluation (checkpoint None) where the run stopped (solved) before a later checkpoint."""
    out = []
    for c in checkpoints:
        point = next((p for p in run["curve"] if p["env_steps"] >= c), None)
        if point is not None and (not out or out[-1][1] is not point):
            out.append((c, point))
    if run["curve"] and (not out or out[-1][1] is not run["curve"][-1]):
        out.append((None, run["curve"][-1]))
    return out


def _fmt(values, fmt="{:.0f}") -> str:
    return " / ".join(fmt.format(v) for v in values) if values else "-"


def markdown(data: dict, png_name: str) -> str:
    s, runs = data["settings"], data["runs"]
    parts = [f"Seeds {s['seeds']}; evaluation every {s['eval_every']} env steps, {s['eval_episodes']} episodes per "
             f"task and action mode; wall = training time only (evaluations excluded); {load_note(s)}).\n"]
    solve_rows = []
    for r in data["summary"]:
        if not FAMILIES[r["family"]].success:
            continue
        rng = (lambda lo, hi: "-" if lo is None else f"{lo:.0f}-{hi:.0f}")
        solve_rows.append([r["family"], r["num_tasks"], r["method"], f"{r['solved']}/{r['runs']}", r["budget"],
                           "-" if r["median_steps"] is None else int(r["median_steps"]),
                           rng(r["min_steps"], r["max_steps"]),
                           "-" if r["median_wall_s"] is None else round(r["median_wall_s"], 1),
                           f"{r['solved_sampled']}/{r['runs']}",
                           "-" if r["median_steps_sampled"] is None else int(r["median_steps_sampled"]),
                           " ".join(f"{n}/{r['num_tasks']}" for n in r["tasks_solved_at_end"])])
    if solve_rows:
        parts.append("Steps to solve: every task's evaluation success 1.0 (deterministic actions; the run stops "
                     "there), median and range over the solved runs; and the first evaluation where the sampled actions "
                     "solved every task, before the run stopped.\n\n"
                     + table(["family", "K", "method", "solved", "budget (env steps)", "env steps to solve (median)",
                              "range", "wall s to solve (median)", "solved, sampled", "steps, sampled (median)",
                              "tasks solved at the last evaluation, per seed"], solve_rows))
    eval_rows = []
    success = any(FAMILIES[f].success for f in {r["family"] for r in runs})
    for fam, k, method, sel in _groups(runs):
        for r in sorted(sel, key=lambda r: r["seed"]):
            for c, p in at_checkpoints(r, s.get("checkpoints", {}).get(fam, [r["budget"]])):
                row = [fam, k, method, r["seed"] if r.get("finished", True) else f"{r['seed']} (under way)",
                       p["env_steps"]]
                for mode in MODES:
                    e = p["eval"].get(mode, {})
                    row += [_fmt(e.get("return"))] + ([_fmt(e.get("success"), "{:.2g}")] if success else [])
                eval_rows.append(row)
    if eval_rows:
        header = ["family", "K", "method", "seed", "env steps"]
        for mode in MODES:
            header += [f"return per task, {mode}"] + ([f"success per task, {mode}"] if success else [])
        parts.append("Per-task evaluation at the checkpoints (the first evaluation at or after each; a run that "
                     "solved stopped there and shows its last evaluation): each task's mean return (and success), deterministic and sampled "
                     "actions.\n\n" + table(header, eval_rows))
    return "\n".join(parts) + f"\n![learning curves]({png_name})\n"


def plot(runs: list, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    groups = sorted({(r["family"], r["num_tasks"]) for r in runs})
    fig, axes = plt.subplots(3, len(groups), figsize=(5.5 * len(groups), 10), squeeze=False)
    colours = dict(zip(METHODS, ("tab:blue", "tab:green", "tab:purple", "tab:olive", "tab:brown", "tab:red")))
    for col, (fam, k) in enumerate(groups):
        success = FAMILIES[fam].success
        first_seed = {}
        for r in (r for r in runs if (r["family"], r["num_tasks"]) == (fam, k)):
            first_seed.setdefault(r["method"], r["seed"])
            x = [c["env_steps"] for c in r["curve"]]
            for row, mode in enumerate(MODES):
                def y(c):
                    e = c["eval"].get(mode)
                    if not e:
                        return np.nan
                    if success and "success" in e:
                        return sum(v >= 1.0 for v in e["success"]) / k
                    return min(e["return"]) if "return" in e else np.nan
                axes[row][col].plot(x, [y(c) for c in r["curve"]], color=colours[r["method"]], alpha=0.7,
                                    marker=".", label=r["method"] if first_seed[r["method"]] == r["seed"] else None)
            axes[2][col].plot(x, [c["train_return_mean"] if c["train_return_mean"] is not None else np.nan
                                  for c in r["curve"]], color=colours[r["method"]], alpha=0.7)
        what = "fraction of tasks solved" if success else "worst task's return"
        for row, mode in enumerate(MODES):
            axes[row][col].set_title(f"{fam} K={k}: {what} ({mode})", fontsize=9)
        axes[2][col].set_title(f"{fam} K={k}: mean training episode return", fontsize=9)
        for ax in axes[:, col]:
            ax.set_xlabel("env steps")
        axes[0][col].legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def render(data: dict, out: str) -> None:
    png = os.path.splitext(out)[0] + ".png"
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    data["summary"] = summarise(data["runs"])
    plot(data["runs"], png)
    write_outputs("learning", data, markdown(data, os.path.basename(png)), out)


def _path_and_methods(arg: str):
    """"results.json" -> (path, None); "results.json:ppo,clipped_seed" -> (path, {methods})."""
    path, sep, methods = arg.rpartition(":")
    if not sep or os.path.exists(arg) or "/" in methods:
        return arg, None
    chosen = set(methods.split(","))
    unknown = chosen - set(METHODS)
    if unknown:
        raise SystemExit(f"--render {arg}: unknown methods {sorted(unknown)}; choose from {list(METHODS)}")
    return path, chosen


def load(paths: list) -> dict:
    """Saved results, their runs merged (settings of the first, seeds and checkpoints of all)."""
    datas = []
    for path in paths:
        path, methods = _path_and_methods(path)
        with open(path) as f:
            data = json.load(f)
        if methods is not None:
            data["runs"] = [r for r in data["runs"] if METHOD_ALIASES.get(r["method"], r["method"]) in methods]
        datas.append(data)
    settings = dict(datas[0]["settings"])
    settings.setdefault("checkpoints", {})
    runs = []
    for d in datas:
        runs += [upgrade(r, d["settings"]) for r in d["runs"]]
        settings["checkpoints"] = {**d["settings"].get("checkpoints", {}), **settings["checkpoints"]}
        settings["seeds"] = sorted(set(settings["seeds"]) | set(d["settings"]["seeds"]))
    settings["machine_after"] = datas[-1]["settings"]["machine_after"]
    return {"runs": runs, "settings": settings}


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.render:  # tables and curves again from saved JSON, without training
        data = load(args.render)
        render(data, args.out or args.render[0])
        return data
    out = args.out or os.path.join(common.RESULTS_DIR, f"learning_{args.family_name.split('-')[0].lower()}.json")
    fam = args.family
    with quiet_warnings():
        init_ray(torch_threads=args.torch_threads)
        layouts = {k: layout(fam, k) for k in args.num_tasks}
        settings = {"env": fam.env_id, "family": args.family_name, "methods": args.methods,
                    "layouts": {str(k): v for k, v in layouts.items()},
                    "ppo": ppo_settings_for_json(fam), "embedpg_training_extra": args.training,
                    "embedpg_train_batch": args.train_batch,
                    "seeds": args.seeds, "eval_every": args.eval_every, "eval_episodes": args.eval_episodes,
                    "budgets": {str(k): args.budget or fam.budget(k) for k in args.num_tasks},
                    "checkpoints": {args.family_name: [c for c in fam.checkpoints
                                                       if c <= max(args.budget or fam.budget(k)
                                                                   for k in args.num_tasks)]
                                    or [args.budget or fam.budget(min(args.num_tasks))]},
                    "machine_before": machine()}
        runs = []

        def save(current=None):  # saved as it goes: the finished runs and the one under way
            settings["machine_after"] = machine()
            render({"runs": runs + ([dict(current)] if current else []), "settings": settings}, out)
        for k in args.num_tasks:
            for seed in args.seeds:
                for method in args.methods:  # interleaved, so load hits every method alike
                    runs.append(run_one(args.family_name, method, k, seed, args.budget or fam.budget(k), args,
                                        save=save))
                    save()
    return {"runs": runs, "summary": summarise(runs), "settings": settings}


if __name__ == "__main__":
    main()
