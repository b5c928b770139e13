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
python3 bench/learning.py --num-tasks 4 --out bench/results/learning_k4.json    # ~15 min, all methods
python3 bench/learning.py --num-tasks 8 --budget 120000 --training '{"latent_dim": 4}' --out bench/results/learning_k8.json  # ~30 min (measured at latent_dim 4)
python3 bench/learning.py --num-tasks 4 --methods clipped_seed ppo --out bench/results/learning_pointgoals_k4_clipped_vs_ppo.json  # ~5 min
python3 bench/learning.py --num-tasks 8 --methods clipped_seed clipped_unbiased ppo --out bench/results/learning_pointgoals_k8_clipped_vs_ppo.json  # ~8 min (EmbedPG's latent_dim: 8, the default max(4, K))
python3 bench/learning.py --num-tasks 8 --methods clipped_seed clipped_unbiased ppo --eval-every 5000 --out bench/results/learning_pointgoals_k8_every5k_clipped_vs_ppo.json  # ~6 min
python3 bench/learning.py --num-tasks 16 --seeds 0 --methods clipped_seed ppo --training '{"latent_dim": 16}' --budget 200000 --out bench/results/learning_pointgoals_k16_clipped_vs_ppo.json  # ~6 min
python3 bench/learning.py --env HalfCheetahDir-v0 --methods clipped_seed ppo --out bench/results/learning_halfcheetahdir_clipped_vs_ppo.json  # ~30 min
python3 bench/learning.py --env HalfCheetahVel-v0 --methods clipped_seed ppo --out bench/results/learning_halfcheetahvel_clipped_vs_ppo.json  # ~25 min
python3 bench/learning.py --env AntDir-v0 --methods clipped_seed ppo --out bench/results/learning_antdir_clipped_vs_ppo.json  # ~35 min (seeds 0-2)
python3 bench/learning.py --env MetaWorldMT1-v0 --methods clipped_seed ppo --out bench/results/learning_metaworldmt1_clipped_std1_vs_ppo.json  # ~15 min
python3 bench/learning.py --env MetaWorldMT10-v0 --seeds 0 1 --methods clipped_seed ppo --train-batch 4000 --training '{"minibatch_size": 1000}' --out bench/results/learning_metaworldmt10_clipped_std1_vs_ppo.json  # ~60 min
# learning_metaworldmt1{,0}_clipped_vs_ppo: the same before the Meta-World recipe's std 1, i.e. with "policy_init_log_std": -0.5
# the *_clipped_kl002_vs_ppo results: the same with --training '{"target_kl": 0.02}' (the previous robot recipe);
# learning_halfcheetahdir_clipped_nokl_vs_ppo: HalfCheetahDir with --training '{"target_kl": null}'
# the *_clipped_std1_vs_ppo results: the policy starting at std 1, --training '{"policy_init_log_std": 0.0}'
# (HalfCheetahDir, HalfCheetahVel, AntDir seed 0, PointGoals K=8; the Meta-World families' recipe, above;
# the PPO runs merged in from the files above with --render NEW.json OLD.json:ppo)
# learning_metaworldmt10_clipped_std1_kl02_vs_ppo: MT10 with --training '{"minibatch_size": 1000, "kl_coeff": 0.2}' too
# learning_antdir_clipped_klcoeff02_vs_ppo: AntDir with --training '{"kl_coeff": 0.2}' (its recipe now)
# learning_halfcheetahdir_clipped_klcoeff02_vs_ppo: HalfCheetahDir with --training '{"kl_coeff": 0.2}' (its recipe now)
# learning_halfcheetahvel_clipped_klcoeff02_vs_ppo: HalfCheetahVel with --training '{"kl_coeff": 0.2}' (its recipe now; learning_halfcheetahvel_clipped_vs_ppo: without)
# learning_metaworldmt10_clipped_std1_mb400_vs_ppo: MT10 with --training '{"minibatch_size": 400}' (seeds run one at a time, merged with --render)
# learning_metaworldmt10_clipped_std1_batchnorm_vs_ppo: MT10 with --training '{"minibatch_size": 1000, "normalize_advantages": true}' (the same way)
# learning_metaworldmt10_clipped_std1_tb2000_vs_ppo: MT10 with --train-batch 2000 --training '{"minibatch_size": 200}' (the same way)
python3 bench/learning.py --render A.json B.json --out C.json   # one table of several results
python3 bench/scaling.py                         # ~10 min: 0/1/2/4 env runners x D = 1/2/4
python3 bench/memory.py                          # ~10 min: one fresh process per case
python3 bench/make_docs.py                       # this page"""


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


def learning_sections() -> list:
    """(title, markdown file) of every `bench/learning.py` result in bench/results/, by family and K."""
    sections = []
    for name in sorted(f for f in os.listdir(RESULTS_DIR) if f.startswith("learning") and f.endswith(".json")):
        data = _read(name)
        if _read(name[:-5] + ".md") is None or not data.get("runs"):
            continue
        runs, settings = data["runs"], data["settings"]
        family = settings.get("family") or settings.get("env", "PointGoals-v0").split("/")[-1]
        ks = ", ".join(str(k) for k in sorted({r["num_tasks"] for r in runs}))
        methods = ", ".join(sorted({r["method"] for r in runs}))
        sections.append((f"## Learning (`bench/learning.py`): {family}, K = {ks}; {methods} (`{name}`)",
                         name[:-5] + ".md"))
    return sections


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
                *learning_sections(),
                ("## Scaling (`bench/scaling.py`)", "scaling.md"),
                ("## Memory (`bench/memory.py`)", "memory.md")]
    for title, name in sections:
        md = _read(name)
        if md is None:
            continue
        for png in (f for f in os.listdir(RESULTS_DIR) if f.endswith(".png") and f in md):
            shutil.copy(os.path.join(RESULTS_DIR, png), os.path.join(DOCS, f"benchmarks_{png}"))
            md = md.replace(f"({png})", f"(benchmarks_{png})")
        parts += [title + "\n", md]
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
