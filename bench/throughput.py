"""Trained env steps per second: EmbedPG beside RLlib's PPO, and the sampling-only ceiling.

    python3 bench/throughput.py                 # PointGoals K=4, D=2, I=25, local env runner
    python3 bench/throughput.py --quick         # a few iterations, for a smoke test

Rows: EmbedPG (the literal update); PPO at RLlib's defaults (30 epochs, minibatch 128, on
the same train batch K*D*I); PPO with one epoch; EmbedPG's clipped update beside PPO at the
same epochs and minibatch size (`--clipped-epochs`, `--clipped-minibatch`); and the ceiling:
EmbedPG's own env runners and module sampling the same rounds with no learning (no
on-policy method can train faster).
The competitors run interleaved (A, B, C, A, B, C, ...) so load on a shared machine hits
them alike; each round's ratios are taken within the round, and medians are reported.
Each row's time is split into sampling, learner connectors (episodes -> train batch,
incl. EmbedPG's s^H windows and intrinsic reward pass), the gradient passes, weight sync
and the rest.
"""

import argparse
import sys

import common  # noqa: F401  (puts this checkout first on sys.path)
from common import TimedAlgo, add_common_args, embedpg_config, init_ray, load_note, machine, median, ppo_config, quiet_warnings, table, \
    write_outputs

PHASES = ("sampling", "learner_connector", "gradient", "weight_sync", "other")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-tasks", type=int, default=4, help="K")
    p.add_argument("--copies", type=int, default=2, help="D, envs per task")
    p.add_argument("--fragment", type=int, default=25, help="I, steps per env per iteration")
    p.add_argument("--num-env-runners", type=int, default=0)
    p.add_argument("--rounds", type=int, default=4, help="interleaved rounds (A,B,C,...) per competitor")
    p.add_argument("--iterations", type=int, default=30, help="timed iterations per competitor per round")
    p.add_argument("--warmup", type=int, default=5, help="untimed iterations per competitor before the rounds")
    p.add_argument("--clipped-epochs", type=int, default=10, help="epochs of the clipped update and its PPO peer")
    p.add_argument("--clipped-minibatch", type=int, default=100,
                   help="minibatch size (rows) of the clipped update and its PPO peer")
    p.add_argument("--quick", action="store_true", help="1 round of 3 iterations after 2 warm-up ones")
    p.add_argument("--out", help="JSON path (default bench/results/throughput.json; the .md goes beside it)")
    add_common_args(p)
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.iterations, args.warmup = 1, 3, 2
    return args


def learner_seconds(row: dict) -> float:
    """A row's learner time per iteration: its learner connectors (episodes -> train batch) and
    gradient passes, without sampling, weight sync and the rest."""
    split = row["split_s_per_iter"]
    return split["learner_connector"] + split["gradient"]


def measure(args) -> dict:
    settings = {"env": "rllib_embed/PointGoals-v0", "num_tasks": args.num_tasks, "copies_per_task": args.copies,
                "rollout_fragment_length": args.fragment, "num_env_runners": args.num_env_runners,
                "train_batch": args.num_tasks * args.copies * args.fragment, "rounds": args.rounds,
                "iterations_per_round": args.iterations, "warmup_iterations": args.warmup}
    layout = dict(num_tasks=args.num_tasks, copies=args.copies, fragment=args.fragment,
                  num_env_runners=args.num_env_runners)
    init_ray(torch_threads=args.torch_threads)
    same_epochs = dict(num_epochs=args.clipped_epochs, minibatch_size=args.clipped_minibatch)
    settings["clipped"] = same_epochs
    algos = {
        "embedpg": TimedAlgo("embedpg", embedpg_config(**layout)),
        "ppo": TimedAlgo("ppo", ppo_config(**layout)),
        "ppo_one_epoch": TimedAlgo("ppo_one_epoch", ppo_config(**layout, num_epochs=1)),
        "embedpg_clipped": TimedAlgo("embedpg_clipped", embedpg_config(**layout, **same_epochs, update="clipped")),
        "ppo_same_epochs": TimedAlgo("ppo_same_epochs", ppo_config(**layout, **same_epochs)),
    }
    ppo_cfg = algos["ppo"].algo.config
    settings["ppo_defaults"] = {"num_epochs": ppo_cfg.num_epochs, "minibatch_size": ppo_cfg.minibatch_size,
                                "lr": ppo_cfg.lr}
    embed_cfg = algos["embedpg"].algo.config
    settings["embedpg"] = {"value_epochs": embed_cfg.value_epochs, "num_epochs": embed_cfg.num_epochs,
                           "history_len": embed_cfg.history_len, "latent_dim": embed_cfg.resolved_latent_dim}
    settings["machine_before"] = machine()
    for timed in algos.values():
        timed.train(args.warmup)
    algos["embedpg"].sample_only(args.warmup)
    rounds = []
    for _ in range(args.rounds):
        row = {}
        for name, timed in algos.items():
            r = timed.train(args.iterations)
            row[name] = {"steps_per_s": r["steps"] / r["seconds"], "steps": r["steps"], "seconds": r["seconds"],
                         "split_s_per_iter": {k: v / args.iterations for k, v in r["split"].items()}}
            if name == "embedpg":
                c = timed.sample_only(args.iterations)
                row["ceiling"] = {"steps_per_s": c["steps"] / c["seconds"], "steps": c["steps"],
                                  "seconds": c["seconds"]}
        row["ratio_vs_ppo"] = row["embedpg"]["steps_per_s"] / row["ppo"]["steps_per_s"]
        row["ratio_vs_ppo_one_epoch"] = row["embedpg"]["steps_per_s"] / row["ppo_one_epoch"]["steps_per_s"]
        row["ratio_vs_ceiling"] = row["embedpg"]["steps_per_s"] / row["ceiling"]["steps_per_s"]
        row["ratio_clipped_vs_ppo_same_epochs"] = \
            row["embedpg_clipped"]["steps_per_s"] / row["ppo_same_epochs"]["steps_per_s"]
        row["learner_ratio_clipped_vs_ppo_same_epochs"] = \
            learner_seconds(row["ppo_same_epochs"]) / learner_seconds(row["embedpg_clipped"])
        rounds.append(row)
        print({k: round(v["steps_per_s"], 1) if isinstance(v, dict) else round(v, 3) for k, v in row.items()},
              file=sys.stderr, flush=True)
    for timed in algos.values():
        timed.stop()
    settings["machine_after"] = machine()

    def med(name):
        return median([r[name]["steps_per_s"] for r in rounds])

    def split(name):
        return {k: median([r[name]["split_s_per_iter"][k] for r in rounds]) for k in PHASES}

    return {
        "embedpg_steps_per_s": med("embedpg"),
        "ppo_steps_per_s": med("ppo"),
        "ppo_one_epoch_steps_per_s": med("ppo_one_epoch"),
        "ceiling_steps_per_s": med("ceiling"),
        "ratio_vs_ppo": median([r["ratio_vs_ppo"] for r in rounds]),
        "ratio_vs_ppo_one_epoch": median([r["ratio_vs_ppo_one_epoch"] for r in rounds]),
        "ratio_vs_ceiling": median([r["ratio_vs_ceiling"] for r in rounds]),
        "embedpg_clipped_steps_per_s": med("embedpg_clipped"),
        "ppo_same_epochs_steps_per_s": med("ppo_same_epochs"),
        "ratio_clipped_vs_ppo_same_epochs": median([r["ratio_clipped_vs_ppo_same_epochs"] for r in rounds]),
        "learner_ratio_clipped_vs_ppo_same_epochs": median(
            [r["learner_ratio_clipped_vs_ppo_same_epochs"] for r in rounds]),
        "split_s_per_iteration": {name: split(name) for name in
                                  ("embedpg", "ppo", "ppo_one_epoch", "embedpg_clipped", "ppo_same_epochs")},
        "rounds": rounds,
        "settings": settings,
    }


def markdown(data: dict) -> str:
    s = data["settings"]
    rates = [r for r in data["rounds"]]
    header = ["row", "env steps/s (median)", "range over rounds",
              "EmbedPG / row (median of paired rounds; clipped rows: clipped / PPO)"] \
        + [f"{p} ms/iter" for p in PHASES]
    rows = []
    for name, label, ratio in (("embedpg", "EmbedPG", 1.0),
                               ("ppo", f"PPO defaults ({s['ppo_defaults']['num_epochs']} epochs, "
                                       f"minibatch {s['ppo_defaults']['minibatch_size']})", data["ratio_vs_ppo"]),
                               ("ppo_one_epoch", "PPO, 1 epoch", data["ratio_vs_ppo_one_epoch"]),
                               ("ceiling", "ceiling: EmbedPG's runners sampling only", data["ratio_vs_ceiling"]),
                               ("embedpg_clipped", f"EmbedPG clipped ({s['clipped']['num_epochs']} epochs, minibatch "
                                                   f"{s['clipped']['minibatch_size']})",
                                data.get("ratio_clipped_vs_ppo_same_epochs", "-")),
                               ("ppo_same_epochs", f"PPO ({s['clipped']['num_epochs']} epochs, minibatch "
                                                   f"{s['clipped']['minibatch_size']})", 1.0)):
        if name not in rates[0]:
            continue  # a result from before the clipped rows
        values = [r[name]["steps_per_s"] for r in rates]
        split = data["split_s_per_iteration"].get(name)
        phase_cells = [1000 * split[p] for p in PHASES] if split else ["-"] * len(PHASES)
        rows.append([label, median(values), f"{min(values):.0f}-{max(values):.0f}", ratio] + phase_cells)
    return (f"PointGoals K={s['num_tasks']}, D={s['copies_per_task']}, I={s['rollout_fragment_length']} "
            f"(train batch {s['train_batch']}), num_env_runners={s['num_env_runners']}; "
            f"{s['rounds']} interleaved rounds of {s['iterations_per_round']} iterations each; "
            f"{load_note(s)}, torch threads {s['machine_after']['torch_threads']}).\n\n"
            + table(header, rows) + learner_note(data))


def learner_note(data: dict) -> str:
    """The clipped update's learner speed beside PPO's (learner connectors + gradient passes)."""
    if "learner_ratio_clipped_vs_ppo_same_epochs" not in data:
        return ""  # a result from before the learner ratio
    s = data["settings"]["clipped"]
    return (f"\nLearner speed, the clipped update beside PPO at the same {s['num_epochs']} epochs and minibatch "
            f"{s['minibatch_size']} (learner connectors + gradient passes per iteration, PPO's time / EmbedPG's, "
            f"median of paired rounds): {data['learner_ratio_clipped_vs_ppo_same_epochs']:.3f}x.\n")


def main(argv=None) -> dict:
    args = parse_args(argv)
    with quiet_warnings():
        data = measure(args)
    write_outputs("throughput", data, markdown(data), args.out)
    return data


if __name__ == "__main__":
    main()
