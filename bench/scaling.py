"""Scaling: EmbedPG's trained env steps/s with 0, 1, 2, 4 env runners and D = 1, 2, 4 copies per task.

    python3 bench/scaling.py                    # PointGoals K=4, I=25
    python3 bench/scaling.py --quick            # runners 0 and 1, D=1, a few iterations

For each layout, EmbedPG's training rate and the sampling-only rate of the same runners
(the ceiling) are measured interleaved, with the time split of a training iteration.
0 runners: the driver's local runner hosts all K*D envs; N >= 1: N remote runners host
K*D/N each, and the driver only learns. Ray is told of max(N)+1 logical CPUs so that 4
runners can start on a 2-core machine: beyond 2 processes they share the cores.
"""

import argparse
import sys

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import TimedAlgo, add_common_args, embedpg_config, init_ray, load_note, machine, median, quiet_warnings, table, \
    write_outputs


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-tasks", type=int, default=4, help="K")
    p.add_argument("--fragment", type=int, default=25, help="I")
    p.add_argument("--runners", type=int, nargs="+", default=[0, 1, 2, 4])
    p.add_argument("--copies", type=int, nargs="+", default=[1, 2, 4], help="D values")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--iterations", type=int, default=10)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="runners 0 and 1, D=1, 1 round of 2 iterations")
    p.add_argument("--out", help="JSON path (default bench/results/scaling.json; the .md goes beside it)")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.runners, args.copies, args.rounds, args.iterations, args.warmup = [0, 1], [1], 1, 2, 1
    return args


def measure_layout(num_tasks, copies, runners, args) -> dict:
    timed = TimedAlgo("embedpg", embedpg_config(num_tasks=num_tasks, copies=copies, fragment=args.fragment,
                                               num_env_runners=runners))
    try:
        timed.train(args.warmup)
        timed.sample_only(args.warmup)
        train, ceiling, splits = [], [], []
        for _ in range(args.rounds):
            t = timed.train(args.iterations)
            c = timed.sample_only(args.iterations)
            train.append(t["steps"] / t["seconds"])
            ceiling.append(c["steps"] / c["seconds"])
            splits.append({k: v / args.iterations for k, v in t["split"].items()})
    finally:
        timed.stop()
    split = {k: median([s[k] for s in splits]) for k in splits[0]}
    row = {"num_env_runners": runners, "copies_per_task": copies, "num_envs": num_tasks * copies,
           "train_batch": num_tasks * copies * args.fragment,
           "embedpg_steps_per_s": median(train), "ceiling_steps_per_s": median(ceiling),
           "ratio_vs_ceiling": median([a / b for a, b in zip(train, ceiling)]),
           "split_s_per_iteration": split}
    print(row, file=sys.stderr, flush=True)
    return row


def markdown(data: dict) -> str:
    s = data["settings"]
    rows = []
    for r in data["layouts"]:
        sp = r["split_s_per_iteration"]
        rows.append([r["num_env_runners"], r["copies_per_task"], r["num_envs"], r["train_batch"],
                     r["embedpg_steps_per_s"], r["ceiling_steps_per_s"], r["ratio_vs_ceiling"],
                     1000 * sp["sampling"], 1000 * (sp["learner_connector"] + sp["gradient"]),
                     1000 * (sp["weight_sync"] + sp["other"])])
    return (f"PointGoals K={s['num_tasks']}, I={s['rollout_fragment_length']}; {s['rounds']} interleaved rounds "
            f"of {s['iterations']} iterations (training, then sampling only); {load_note(s)}).\n\n"
            + table(["env runners", "D", "envs", "batch", "EmbedPG env steps/s", "ceiling env steps/s",
                     "EmbedPG / ceiling", "sampling ms/iter", "learner ms/iter", "sync+other ms/iter"], rows))


def main(argv=None) -> dict:
    args = parse_args(argv)
    with quiet_warnings():
        init_ray(num_cpus=max(2, max(args.runners) + 1), torch_threads=args.torch_threads)
        settings = {"env": common.ENV, "num_tasks": args.num_tasks, "rollout_fragment_length": args.fragment,
                    "rounds": args.rounds, "iterations": args.iterations, "machine_before": machine()}
        layouts = [measure_layout(args.num_tasks, d, n, args) for d in args.copies for n in args.runners]
        settings["machine_after"] = machine()
    data = {"layouts": layouts, "settings": settings}
    write_outputs("scaling", data, markdown(data), args.out)
    return data


if __name__ == "__main__":
    main()
