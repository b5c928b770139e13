"""Writes docs/benchmarks.md from the benchmarks' results (bench/results/*.json, *.md, *.png).

    python3 bench/make_docs.py

The tables come from the scripts' markdown; the targets table is computed here from their
JSON; the discussion (what the profile showed, what holds a target back) is
bench/commentary.md, written by hand from those numbers and pasted in as it is.
"""

import argparse
import json
import os
import shutil

import common  # noqa: F401
from common import REPO_ROOT, RESULTS_DIR, table

DOCS = os.path.join(REPO_ROOT, "docs")
REGENERATE = """\
python3 bench/throughput.py                      # ~3 min: EmbedPG, PPO (defaults, 1 epoch), ceiling
python3 bench/generality.py                      # ~3 h: the generality suite, 4 families x 3 seeds x {EmbedPG, PPO}
python3 bench/learning.py --env PointGoals-v0 --num-tasks 4 8 --methods clipped_score ppo --out bench/results/learning_pointgoals_recipe_vs_ppo.json  # ~20 min
python3 bench/learning.py --env HalfCheetahDir-v0 --methods clipped_score ppo --out bench/results/learning_halfcheetahdir_recipe_vs_ppo.json  # ~1.5 h
python3 bench/learning.py --env HalfCheetahVel-v0 --methods clipped_score ppo --seeds 0 --out bench/results/learning_halfcheetahvel_recipe_vs_ppo.json  # ~1 h
python3 bench/scaling.py                         # ~10 min: 0/1/2/4 env runners x D = 1/2/4
python3 bench/memory.py                          # ~10 min: one fresh process per case
python3 bench/make_docs.py                       # this page"""

# Learning results measured before the general recipe (EmbedPGConfig.from_ppo: PPO's shuffled row
# minibatches, the extrinsic and alpha advantages apart, the score estimator). Their files stay in
# bench/results/; this page lists them in one table instead of repeating every run.
SUPERSEDED_NOTE = ("measured before the general recipe: minibatches of whole segments, one standardised "
                   "advantage, per-family settings (tuned_configs/, docs/learning.md's earlier recipes)")


def _read(name):
    path = os.path.join(RESULTS_DIR, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f) if name.endswith(".json") else f.read()


def targets(throughput, memory) -> str:
    rows = []
    if throughput:
        t = throughput
        rows += [
            ["trained env steps/s vs PPO at RLlib's defaults", ">= 1.5x", f"{t['ratio_vs_ppo']:.2f}x",
             "yes" if t["ratio_vs_ppo"] >= 1.5 else "no"],
            ["vs PPO with one epoch", ">= 1.0x", f"{t['ratio_vs_ppo_one_epoch']:.2f}x",
             "yes" if t["ratio_vs_ppo_one_epoch"] >= 1.0 else "no"],
            ["vs the sampling-only ceiling", ">= 0.8x", f"{t['ratio_vs_ceiling']:.2f}x",
             "yes" if t["ratio_vs_ceiling"] >= 0.8 else "no"],
        ]
        if "ratio_clipped_vs_ppo_same_epochs" in t:
            r = t["ratio_clipped_vs_ppo_same_epochs"]
            rows.append(["clipped update vs PPO at the same epochs and minibatch size", ">= 1.0x", f"{r:.2f}x",
                         "yes" if r >= 1.0 else "no"])
        if "learner_ratio_clipped_vs_ppo_same_epochs" in t:
            r = t["learner_ratio_clipped_vs_ppo_same_epochs"]
            rows.append(["its learner alone (learner connectors + gradient passes) vs PPO's", ">= 1.0x",
                         f"{r:.2f}x", "yes" if r >= 1.0 else "no"])
    if memory:
        cases = memory["cases"]
        by = {(c["algo"], c["num_tasks"], c["history_len"]): c for c in cases}
        worst = None
        for c in cases:
            ppo = by.get(("ppo", c["num_tasks"], None))
            if c["algo"] != "embedpg" or ppo is None:
                continue
            for role in ("driver_mib", "env_runner_mib", "learner_mib"):
                r = c[role] / ppo[role]
                if worst is None or r > worst[0]:
                    worst = (r, role, c["num_tasks"], c["history_len"])
        if worst:
            rows.append(["peak RSS of each process vs PPO's (same K)", "<= 1.2x",
                         f"worst {worst[0]:.2f}x ({worst[1][:-4]}, K={worst[2]}, H={worst[3]})",
                         "yes" if worst[0] <= 1.2 else "no"])
        ks = sorted(c["num_tasks"] for c in cases if c["algo"] == "embedpg" and c["history_len"] == 4)
        if len(ks) >= 3:
            m = [by[("embedpg", k, 4)]["learner_mib"] for k in ks]
            slopes = [(m[i + 1] - m[i]) / (ks[i + 1] - ks[i]) for i in range(len(ks) - 1)]
            linear = slopes[-1] <= max(1.5 * slopes[0], 0.5)
            rows.append(["learner memory growth in K", "at most linear",
                         ", ".join(f"{s:+.2f} MiB/task (K {ks[i]}->{ks[i + 1]})" for i, s in enumerate(slopes)),
                         "yes" if linear else "no"])
    return table(["target", "wanted", "measured", "met"], rows)


def _is_recipe_result(name: str) -> bool:
    """`bench/learning.py` results of the general recipe (`--methods clipped_score ppo`, saved as
    learning_<family>_recipe_vs_ppo.json): current, shown whole."""
    return "_recipe_vs_ppo" in name


def generality_sections() -> list:
    """(title, markdown file) of the current learning results: the generality suite's summary and
    each family's runs, then the general recipe's runs on the shipped families."""
    sections = [("## Learning: the generality suite (`bench/generality.py`)", "generality.md")]
    for name in sorted(f for f in os.listdir(RESULTS_DIR) if f.startswith("generality_") and f.endswith(".md")):
        sections.append((f"### {name[len('generality_'):-3]} (`{name[:-3]}.json`)", name))
    recipe = sorted(f for f in os.listdir(RESULTS_DIR)
                    if f.startswith("learning") and f.endswith(".md") and _is_recipe_result(f))
    if recipe:
        sections.append(("## Learning: the general recipe on the shipped families (`bench/learning.py --methods "
                         "clipped_score ppo`)", None))
        sections += [(f"### `{name[:-3]}.json`", name) for name in recipe]
    return sections


def superseded_learning() -> str:
    """One row per earlier `bench/learning.py` result: what it measured, and where it is."""
    rows = []
    for name in sorted(f for f in os.listdir(RESULTS_DIR) if f.startswith("learning") and f.endswith(".json")
                       and not _is_recipe_result(f)):
        data = _read(name)
        if not data or not data.get("runs"):
            continue
        runs, settings = data["runs"], data["settings"]
        family = settings.get("family") or settings.get("env", "PointGoals-v0").split("/")[-1]
        rows.append([family, ", ".join(str(k) for k in sorted({r["num_tasks"] for r in runs})),
                     ", ".join(sorted({r["method"] for r in runs})),
                     ", ".join(str(s) for s in sorted({r["seed"] for r in runs})), f"`{name}`"])
    if not rows:
        return ""
    return (f"Earlier `bench/learning.py` results, {SUPERSEDED_NOTE}; their tables and curves are in the "
            f"files named (`python3 bench/learning.py --render FILE` prints one), docs/learning.md summarises "
            f"them.\n\n" + table(["family", "K", "methods", "seeds", "file"], rows))


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    throughput, memory = _read("throughput.json"), _read("memory.json")
    parts = ["# Benchmarks: EmbedPG beside RLlib's PPO\n",
             "Generated by `bench/make_docs.py` from the results of the scripts in `bench/` "
             "(JSON, markdown and PNG in `bench/results/`). To regenerate, from the repository root:\n",
             "```bash\n" + REGENERATE + "\n```\n",
             "Every number here was measured on the project's shared 2-core machine while other jobs ran "
             "on it (the load average of each run is given with its table; 2 means both cores busy). "
             "Absolute rates move with that load by 2x and more; the ratios are taken between competitors "
             "run interleaved in the same process (A, B, C, A, B, C, ...), which load hits alike. torch runs "
             "with one thread in the benchmark processes (`--torch-threads`, as Ray's 1-CPU actors do), "
             "see the discussion.\n",
             "## Targets\n", targets(throughput, memory)]
    sections = [("## Throughput (`bench/throughput.py`)", "throughput.md"),
                ("### Before the optimisation (same script on commit 47cf939, the code before it; run just before the table above)", "throughput_before.md"),
                *generality_sections(),
                ("## Scaling (`bench/scaling.py`)", "scaling.md"),
                ("## Memory (`bench/memory.py`)", "memory.md")]
    for old in (f for f in os.listdir(DOCS) if f.startswith("benchmarks_") and f.endswith(".png")):
        os.remove(os.path.join(DOCS, old))  # the page's pictures are exactly those it shows
    for title, name in sections:
        if name is None:  # a heading of its own
            parts.append(title + "\n")
            continue
        md = _read(name)
        if md is None:
            continue
        for png in (f for f in os.listdir(RESULTS_DIR) if f.endswith(".png") and f in md):
            shutil.copy(os.path.join(RESULTS_DIR, png), os.path.join(DOCS, f"benchmarks_{png}"))
            md = md.replace(f"({png})", f"(benchmarks_{png})")
        parts += [title + "\n", md]
    superseded = superseded_learning()
    if superseded:
        parts += ["## Learning results superseded by the general recipe\n", superseded]
    commentary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "commentary.md")
    if os.path.exists(commentary):
        with open(commentary) as f:
            parts.append(f.read())
    os.makedirs(DOCS, exist_ok=True)
    with open(os.path.join(DOCS, "benchmarks.md"), "w") as f:
        f.write("\n".join(parts))
    print("wrote", os.path.join(DOCS, "benchmarks.md"))


if __name__ == "__main__":
    main()
