"""Peak memory (RSS) of the driver, one env runner and the learner: EmbedPG beside PPO.

    python3 bench/memory.py                     # K = 4, 16, 64 (and H = 1, 4, 16 for EmbedPG)
    python3 bench/memory.py --quick             # K=4 only, a few iterations

Each case runs in a fresh Python process (peak RSS is a high-water mark, so processes
are never shared between cases) with one remote env runner hosting all K*D envs and one
remote learner (`num_learners=1`), so the three roles are three processes. After
`--iterations` training iterations each process reports its peak RSS
(VmHWM of /proc/self/status). PPO runs the same layout and train batch on the
baselines' view (observation ++ one-hot task id). Most of each process's peak is the
Python, torch and Ray import (the `import floor` column: a bare process importing the same).
"""

import argparse
import json
import os
import resource
import subprocess
import sys

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import add_common_args, embedpg_config, init_ray, machine, ppo_config, quiet_warnings, table, \
    write_outputs

COPIES, FRAGMENT = 1, 50  # the defaults of EmbedPG (D=1, I=50): batch 50*K


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-tasks", type=int, nargs="+", default=[4, 16, 64])
    p.add_argument("--history-lens", type=int, nargs="+", default=[1, 4, 16], help="H values (EmbedPG, at K=4)")
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--quick", action="store_true", help="K=4, H=4 only, 1 iteration")
    p.add_argument("--case", help=argparse.SUPPRESS)  # internal: run one case in this process
    p.add_argument("--out", help="JSON path (default bench/results/memory.json; the .md goes beside it)")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.num_tasks, args.history_lens, args.iterations = [4], [4], 1
    return args


def peak_rss_mib(*_) -> float:
    """This process's peak RSS: VmHWM (Linux), else getrusage's ru_maxrss, which Linux keeps
    across exec, so a child started by a big process would report its parent's peak."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_case(case: dict, iterations: int, torch_threads: int) -> dict:
    """In this (fresh) process: train one case, return each role's peak RSS in MiB."""
    def peak(*_):  # sent to the actors by value (this module need not be importable there)
        with open("/proc/self/status") as f:
            return [int(line.split()[1]) / 1024.0 for line in f if line.startswith("VmHWM:")][0]

    with quiet_warnings():
        init_ray(torch_threads=torch_threads)
        layout = dict(num_tasks=case["num_tasks"], copies=COPIES, fragment=FRAGMENT, num_env_runners=1)
        if case["algo"] == "embedpg":
            config = embedpg_config(**layout, history_len=case["history_len"])
        else:
            config = ppo_config(**layout)
        algo = config.learners(num_learners=1, num_cpus_per_learner=0.5).env_runners(num_cpus_per_env_runner=0.5) \
            .build_algo()
        try:
            for _ in range(iterations):
                algo.train()
            runner = algo.env_runner_group.foreach_env_runner(peak, local_env_runner=False)
            learner = algo.learner_group.foreach_learner(peak)
            learner = [r.get() if hasattr(r, "get") else r for r in learner]
        finally:
            algo.stop()
    return {**case, "driver_mib": peak_rss_mib(), "env_runner_mib": max(runner), "learner_mib": max(learner)}


def import_floor() -> float:
    """Peak RSS of a bare process that imports what every role imports (torch, Ray, RLlib)."""
    code = ("import torch, ray, ray.rllib, rllib_embed;"
            "print([int(l.split()[1]) / 1024.0 for l in open('/proc/self/status') if l.startswith('VmHWM:')][0])")
    out = subprocess.run([sys.executable, "-c", code], cwd=common.REPO_ROOT, capture_output=True, text=True,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cases(args) -> list:
    out = []
    for k in args.num_tasks:
        out.append({"algo": "embedpg", "num_tasks": k, "history_len": 4})
        out.append({"algo": "ppo", "num_tasks": k, "history_len": None})
    for h in args.history_lens:
        if h != 4:
            out.append({"algo": "embedpg", "num_tasks": min(args.num_tasks), "history_len": h})
    return out


def markdown(data: dict) -> str:
    s = data["settings"]
    rows = []
    by_key = {(r["algo"], r["num_tasks"], r["history_len"]): r for r in data["cases"]}
    for r in data["cases"]:
        ppo = by_key.get(("ppo", r["num_tasks"], None))
        ratio = lambda role: "-" if r["algo"] == "ppo" or ppo is None else f"{r[role] / ppo[role]:.2f}"  # noqa
        rows.append([r["algo"], r["num_tasks"], r["history_len"] or "-", r["num_tasks"] * COPIES * FRAGMENT,
                     r["driver_mib"], ratio("driver_mib"), r["env_runner_mib"], ratio("env_runner_mib"),
                     r["learner_mib"], ratio("learner_mib")])
    m1 = s["machine_after"]
    return (f"PointGoals, D={COPIES}, I={FRAGMENT}; {s['iterations']} training iterations per case; one remote "
            f"env runner, one remote learner; peak RSS in MiB; import floor (bare process importing torch, Ray, "
            f"RLlib): {s['import_floor_mib']:.0f} MiB ({m1['utc']} UTC).\n\n"
            + table(["algo", "K", "H", "batch", "driver", "/PPO", "env runner", "/PPO", "learner", "/PPO"], rows))


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.case:
        print("CASE_RESULT " + json.dumps(run_case(json.loads(args.case), args.iterations, args.torch_threads)))
        return {}
    settings = {"env": common.ENV, "copies_per_task": COPIES, "rollout_fragment_length": FRAGMENT,
                "iterations": args.iterations, "machine_before": machine()}
    results = []
    for case in cases(args):
        cmd = [sys.executable, os.path.abspath(__file__), "--case", json.dumps(case),
               "--iterations", str(args.iterations), "--torch-threads", str(args.torch_threads)]
        proc = subprocess.run(cmd, cwd=common.REPO_ROOT, capture_output=True, text=True)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("CASE_RESULT ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"memory case {case} failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(lines[-1][len("CASE_RESULT "):]))
        print(results[-1], file=sys.stderr, flush=True)
    settings["import_floor_mib"] = import_floor()
    settings["machine_after"] = machine()
    data = {"cases": results, "settings": settings}
    write_outputs("memory", data, markdown(data), args.out)
    return data


if __name__ == "__main__":
    main()
