"""`rllib evaluate CHECKPOINT`: per-task return (and success) of a trained policy.

EmbedPG checkpoints go through `evaluate_per_task` (skill from p(z|t): sampled or mean;
actions: the policy's mean / argmax, or sampled with --explore);
any other RLlib algorithm's through `policy_rollouts.evaluate_policy`, which pins each
task of a multi-task env in turn. No Ray cluster is started: the module runs in-process.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
from typing import Any, Dict, List

import rllib_embed
from rllib_embed.cli.checkpoint_path import resolve_checkpoint
from rllib_embed.cli.errors import CLIError


def evaluate_command(args) -> int:
    rllib_embed.register()  # the checkpoint's algorithm and env are looked up by name

    from rllib_embed.cli.quiet_logs import hold_back_notices
    from rllib_embed.embed_pg.checkpoint_files import CheckpointError

    hold_back_notices()  # e.g. RLlib's deprecation notice about its own RLModule call

    try:
        return _evaluate(args)
    except CheckpointError as e:  # a damaged file found while loading: one line naming it
        raise CLIError(str(e)) from None


def _evaluate(args) -> int:
    from rllib_embed.cli import own_runs

    said = []  # "checkpoint: PATH (newest complete of N ...)" goes into the report's first line
    checkpoint = resolve_checkpoint(args.checkpoint, say=lambda line: said.append(line) if line.startswith(
        "checkpoint: ") else print(line, file=sys.stderr, flush=True))
    if args.out:
        out_dir = os.path.dirname(os.path.abspath(args.out))
        if not os.path.isdir(out_dir):
            raise CLIError(f"--out: folder does not exist: {out_dir}")
    # Unpickling (checkpoints without EmbedPG's plain files) only for this machine's own runs or on request.
    trusted = args.trust_checkpoint or own_runs.started_here(checkpoint) is not None
    algo_cls, config = load_algorithm_config(checkpoint, trust_checkpoint=trusted)
    env_config = {**dict(config.env_config or {}), **(args.env_config or {})}
    if args.env_config:
        _check_env_config(config.env, dict(config.env_config or {}), env_config, args.env_config)
    module = load_module(checkpoint, algo_cls, trust_checkpoint=trusted)
    report = {
        "checkpoint": checkpoint,
        "checkpoint_line": said[0] if said else f"checkpoint: {checkpoint}",
        "algorithm": algo_cls.__name__,
        "env": config.env if isinstance(config.env, str) else repr(config.env),
        "env_config": env_config,
        "episodes_per_task": args.episodes,
        "seed": args.seed,
        "explore": args.explore,
    }
    if _is_embed_pg(algo_cls):
        from rllib_embed.embed_pg.evaluation import evaluate_per_task
        from rllib_embed.embed_pg.observation_statistics import module_observation_normalizer
        # The statistics the module carries (older checkpoints: its env runner's), or a one-line refusal.
        normalize_obs = module_observation_normalizer(module, f"checkpoint {checkpoint!r}")
        report["skill"] = args.skill
        print_header(report)  # at once: the episodes take a while
        per_task = evaluate_per_task(module, config.env, env_config, episodes_per_task=args.episodes,
                                     skill=args.skill, seed=args.seed, explore=args.explore,
                                     normalize_obs=normalize_obs)
        rows = [{"task": task, **stats} for task, stats in per_task.items()]
    else:
        from rllib_embed.cli.policy_rollouts import evaluate_policy
        print_header(report)
        rows = evaluate_policy(config, checkpoint, module, env_config, args.episodes, args.seed, args.explore)
    report["tasks"] = rows
    report["mean"] = _mean_row(rows)
    print_table(report)
    if args.out:
        _write_json(args.out, {key: value for key, value in report.items() if key != "checkpoint_line"})
        print(f"\nwritten: {os.path.abspath(args.out)}")
    return 0


def _check_env_config(env, trained_config: Dict[str, Any], env_config: Dict[str, Any],
                      override: Dict[str, Any]) -> None:
    """One line, before any episode, where `--env-config` gives an env that the checkpoint's
    module cannot run: the env refuses the merged config, or its observations or actions differ
    in size from those of the env built with the checkpoint's own env_config (for EmbedPG and
    PPO's flat_obs a different task count, which changes the one-hot)."""
    import gymnasium as gym

    from rllib_embed.embed_pg.env_factory import make_env
    given = f"--env-config {json.dumps(override)} (merged over the checkpoint's: {json.dumps(env_config)})"

    def sizes(config):
        instance = make_env(env, config)
        try:
            return gym.spaces.flatdim(instance.observation_space), gym.spaces.flatdim(instance.action_space)
        finally:
            instance.close()

    try:
        now = sizes(env_config)
    except Exception as e:  # noqa: BLE001  (the env's own message names the key)
        raise CLIError(f"{given}: env {env!r} refuses it: {' '.join(str(e).split())}") from None
    trained = sizes(trained_config)
    if now != trained:
        raise CLIError(f"{given}: the env's observations / actions have {now[0]} / {now[1]} numbers, the module "
                       f"was trained on {trained[0]} / {trained[1]} (a different number of tasks or a different "
                       f"body); a trained module evaluates its own tasks, new ones go through transfer "
                       f"(docs/transfer.md)")


def load_algorithm_config(checkpoint: str, *, trust_checkpoint: bool = False):
    """(algorithm class, its AlgorithmConfig) as saved in the checkpoint: from EmbedPG's plain
    `embed_pg_run.json` where it names the env, else (only with ``trust_checkpoint``) by
    unpickling RLlib's `class_and_ctor_args.pkl`. Raises CLIError (one line) otherwise."""
    from rllib_embed.embed_pg.checkpoint_files import UntrustedCheckpointError
    from rllib_embed.embed_pg.plain_files import RUN_FILE, read_run_file

    run = read_run_file(checkpoint)
    if run is not None and run["algorithm"] == "EmbedPG" and run["env"] is not None and run["env_config"] is not None:
        from rllib_embed.embed_pg import EmbedPG
        return EmbedPG, EmbedPG.get_default_config().environment(run["env"], env_config=run["env_config"])
    if not trust_checkpoint:
        raise CLIError(str(UntrustedCheckpointError(checkpoint, RUN_FILE)))
    path = os.path.join(checkpoint, "class_and_ctor_args.pkl")
    try:
        with open(path, "rb") as f:
            saved = pickle.load(f)
        algo_cls = saved["class"]
        args, kwargs = saved["ctor_args_and_kwargs"]
        config = kwargs.get("config", args[0] if args else None)
    except Exception as e:  # noqa: BLE001
        raise CLIError(f"not an RLlib algorithm checkpoint (new API stack): cannot read {path}: "
                       f"{' '.join(str(e).split())}") from None
    if isinstance(config, dict):  # Tune passes the param space as a dict
        config = algo_cls.get_default_config().update_from_dict(dict(config))
    if config is None or not config.env:
        raise CLIError(f"checkpoint {checkpoint} names no env; cannot evaluate it")
    return algo_cls, config


def load_module(checkpoint: str, algo_cls, *, trust_checkpoint: bool = False):
    """The checkpoint's single-agent RLModule: an EmbedPG module from its plain files
    (`module_checkpoint.load_module`), any other by unpickling, only with ``trust_checkpoint``."""
    from ray.rllib.core.rl_module.rl_module import RLModule

    from rllib_embed.embed_pg.checkpoint_files import UntrustedCheckpointError, load_checked
    from rllib_embed.embed_pg.module_checkpoint import MODULE_SUBDIR, load_module as load_embed_pg_module

    path = os.path.join(checkpoint, MODULE_SUBDIR)
    if not os.path.isdir(path):
        raise CLIError(f"checkpoint {checkpoint} has no single-agent module at {MODULE_SUBDIR} "
                       f"(multi-agent and old-API-stack checkpoints are not supported)")
    if _is_embed_pg(algo_cls):
        return load_embed_pg_module(checkpoint, trust_checkpoint=trust_checkpoint)
    if not trust_checkpoint:
        raise CLIError(str(UntrustedCheckpointError(checkpoint, "EmbedPG plain files")))
    return load_checked(RLModule.from_checkpoint, path)


def _is_embed_pg(algo_cls) -> bool:
    from rllib_embed.embed_pg import EmbedPG
    return issubclass(algo_cls, EmbedPG)


def _mean_row(rows: List[Dict[str, Any]]) -> Dict[str, float]:
    mean = {}
    for key in ("episode_return_mean", "success_mean"):
        values = [row[key] for row in rows if key in row]
        if values:
            mean[key] = sum(values) / len(values)
    return mean


def print_header(report: Dict[str, Any]) -> None:
    """The checkpoint (and which of a trial's it is), algorithm, env and how it is evaluated."""
    print(report["checkpoint_line"])
    print(f"algorithm:  {report['algorithm']}   env: {report['env']} {json.dumps(report['env_config'])}")
    actions = "sampled actions" if report["explore"] else "mean action" if "skill" in report else "deterministic actions"
    how = f"skill {report['skill']}, {actions}" if "skill" in report else actions
    print(f"episodes:   {report['episodes_per_task']} per task ({how}, seed {report['seed']})\n", flush=True)


def print_table(report: Dict[str, Any]) -> None:
    """Per-task return (and success) and their mean."""
    has_success = any("success_mean" in row for row in report["tasks"])
    print("task     return" + ("   success" if has_success else ""))
    for row in [*report["tasks"], {"task": "mean", **report["mean"]}]:
        task = "-" if row["task"] is None else row["task"]
        line = f"{task!s:>4}  {row['episode_return_mean']:9.3f}"
        if has_success:
            line += f"  {row['success_mean']:8.2f}" if "success_mean" in row else "         -"
        print(line)
    sys.stdout.flush()


def _write_json(path: str, report: Dict[str, Any]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)  # whole file or nothing
