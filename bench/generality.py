"""The generality suite: EmbedPG's general recipe beside multi-task PPO on bodies nobody tuned for.

    python3 bench/generality.py                                    # every suite family, seeds 0-2 (hours)
    python3 bench/generality.py --families PendulumTargets-v0 --seeds 0
    python3 bench/generality.py --render                           # only the summary, from saved results

Each family (bench/suite_envs.py) runs `bench/learning.py` with the methods `clipped_score`
(EmbedPG's general recipe: `EmbedPGConfig.from_ppo` of the PPO config below, nothing else) and
`ppo` (RLlib's PPO at the settings published for the body, one-hot in its observation), on the
same env copies and env-step budget, into `bench/results/generality_<family>.json` (its own
table and curves beside it). The summary, `bench/results/generality.md`, shows for each family
and checkpoint the tasks each seed solves (deterministic evaluation success 1.0) and the mean
evaluation return over tasks, both methods side by side, and whether EmbedPG reaches PPO's
per-task success and return there (means over seeds).
"""

import argparse
import json
import os
import sys

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import RESULTS_DIR, add_common_args, table
from families import FAMILIES, SUITE, family_of

METHODS = ("clipped_score", "ppo")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--families", nargs="+", default=list(SUITE), help=f"of {', '.join(SUITE)}")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--budget", type=int, help="env steps per run (default: the family's)")
    p.add_argument("--training", default="{}", help="JSON: extra EmbedPGConfig.training fields (a variant)")
    p.add_argument("--tag", default="", help="suffix of the result files (a variant's own results)")
    p.add_argument("--render", action="store_true", help="only rewrite the summary from saved results")
    add_common_args(p)
    args = p.parse_args(argv)
    for name in args.families:
        key, _ = family_of(name)
        if key not in SUITE:
            p.error(f"--families: {name!r} is not a suite family; allowed: {', '.join(SUITE)}")
    args.families = [family_of(name)[0] for name in args.families]
    return args


def result_path(family: str, tag: str = "") -> str:
    return os.path.join(RESULTS_DIR, f"generality_{family.split('-')[0].lower()}{tag}.json")


def _mean(values):
    return sum(values) / len(values) if values else float("nan")


def at(run: dict, steps: int):
    """The run's first evaluation at or after `steps` env steps; for a run that solved every task
    and stopped before, its last one (the solved evaluation); None for a run that has neither."""
    point = next((p for p in run["curve"] if p["env_steps"] >= steps), None)
    if point is None and run.get("solved") and run["curve"]:
        point = run["curve"][-1]
    return point


def summary_rows(family: str, runs: list) -> list:
    """One row per checkpoint and method: tasks solved per seed, mean return over tasks per seed,
    and (EmbedPG's rows) whether its per-task success and return, means over seeds, reach PPO's."""
    fam = FAMILIES[family]
    rows = []
    for checkpoint in fam.checkpoints:
        per_method = {}
        for method in METHODS:
            points = [(r["seed"], at(r, checkpoint)) for r in sorted(runs, key=lambda r: r["seed"])
                      if r["method"] == method]
            points = [(seed, p) for seed, p in points if p is not None]
            if not points:
                continue
            det = [p["eval"]["deterministic"] for _, p in points]
            per_method[method] = det
            solved = [f"{sum(s >= 1.0 for s in e.get('success', []))}/{len(e['return'])}" for e in det]
            returns = [f"{_mean(e['return']):.0f}" for e in det]
            rows.append([family, checkpoint, method, " ".join(str(seed) for seed, _ in points), " / ".join(solved),
                         " / ".join(returns), ""])
        if set(per_method) == set(METHODS):
            ours, ppo = per_method["clipped_score"], per_method["ppo"]
            k = len(ours[0]["return"])
            task_mean = lambda evals, key, t: _mean([e[key][t] for e in evals if key in e])  # noqa: E731
            success_ok = all(task_mean(ours, "success", t) >= task_mean(ppo, "success", t) for t in range(k)) \
                if all("success" in e for e in ours + ppo) else True
            return_ok = [task_mean(ours, "return", t) >= task_mean(ppo, "return", t) for t in range(k)]
            rows[-2][-1] = (f"success {'yes' if success_ok else 'no'}, return on {sum(return_ok)} of {k} tasks")
    return rows


def render() -> str:
    rows, missing = [], []
    for family in SUITE:
        path = result_path(family)
        if not os.path.exists(path):
            missing.append(family)
            continue
        with open(path) as f:
            rows += summary_rows(family, json.load(f)["runs"])
    text = ("# The generality suite\n\nEmbedPG's general recipe (`EmbedPGConfig.from_ppo` of the PPO config, "
            "nothing else) beside multi-task PPO at the settings published for each body (bench/families.py), "
            "on the same env copies and env-step budget; deterministic evaluation (EmbedPG: each task's mean "
            "skill; PPO: the task's one-hot), tasks solved = evaluation success 1.0. Regenerate: "
            "`python3 bench/generality.py`.\n\n")
    text += table(["family", "env steps", "method", "seeds", "tasks solved, per seed",
                   "mean return over tasks, per seed", "EmbedPG >= PPO per task (means over seeds)"], rows)
    if missing:
        text += f"\nNot yet run: {', '.join(missing)}.\n"
    with open(os.path.join(RESULTS_DIR, "generality.md"), "w") as f:
        f.write(text)
    return text


def main(argv=None) -> str:
    args = parse_args(argv)
    if not args.render:
        import learning
        for family in args.families:
            argv = ["--env", family, "--methods", *METHODS, "--seeds", *map(str, args.seeds),
                    "--training", args.training, "--out", result_path(family, args.tag),
                    "--torch-threads", str(args.torch_threads)]
            if args.budget:
                argv += ["--budget", str(args.budget)]
            learning.main(argv)
    text = render()
    print(text, file=sys.stderr)
    return text


if __name__ == "__main__":
    main()
