"""`rllib`: argument parsing and dispatch.

    rllib train --algo EmbedPG --env rllib_embed/PointGoals-v0 --config '{...}' --stop '{...}'
    rllib train file tuned_configs/pointgoals-embedpg.yaml [flags that override the file]
    rllib evaluate CHECKPOINT --episodes 10 [--out results.json]
    rllib regress tuned_configs/*.yaml

Bad input is one line on stderr (`rllib: error: ...`) and exit code 2, before Ray
starts or anything is written. Heavy imports (RLlib, torch) wait until the arguments parse.
"""

from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from rllib_embed.cli.errors import EXIT_USAGE, CLIError

PROG = "rllib"


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line, like the command's own."""

    def error(self, message: str):
        raise CLIError(f"{message} (see `{self.prog} --help`)")


def _int_at_least(minimum: int):
    """An argparse type: an int >= minimum, else argparse's one-line error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}, got {text!r}")
        return value
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _json_object(flag: str):
    def parse(text: str):
        from rllib_embed.cli.experiment import parse_json_object
        return parse_json_object(text, flag)
    return parse


def add_run_flags(parser: argparse.ArgumentParser, *, experiment_flags: bool = True) -> None:
    """Flags of `train`, `train file` and `regress`; in a file's case they override it."""
    if experiment_flags:
        what = parser.add_argument_group("experiment")
        what.add_argument("--algo", "--run", "-a", dest="algo",
                          help="algorithm name in RLlib's registry: EmbedPG, PPO, SAC, ...")
        what.add_argument("--env", "-e", help="env id: rllib_embed/PointGoals-v0, rllib_embed/GridGoals-v0, "
                                              "or any Tune/gymnasium id")
        what.add_argument("--config", "-c", help="JSON object of AlgorithmConfig keys "
                                                 "(search spaces allowed: {\"lr\": {\"grid_search\": [1e-3, 3e-4]}})")
        what.add_argument("--stop", "-s", help="JSON object: stop a trial when any metric reaches its value, "
                                               "e.g. '{\"training_iteration\": 100}'")
    shortcuts = parser.add_argument_group("config shortcuts (override --config and the file)")
    shortcuts.add_argument("--num-env-runners", type=_non_negative_int, help="config num_env_runners")
    shortcuts.add_argument("--num-envs-per-env-runner", type=_positive_int, help="config num_envs_per_env_runner")
    shortcuts.add_argument("--seed", type=int, help="config seed (every trial gets the same one)")
    tune_group = parser.add_argument_group("Ray Tune")
    tune_group.add_argument("--name", "--experiment-name", "-n", dest="name",
                            help="experiment folder name under the storage path (default: Tune's, timestamped)")
    tune_group.add_argument("--storage-path", "--local-dir", dest="storage_path",
                            help="where results, checkpoints and TensorBoard logs go (default: ~/ray_results)")
    tune_group.add_argument("--num-samples", type=_positive_int,
                            help="trials per search-space variant (sampled spaces draw anew for each)")
    tune_group.add_argument("--checkpoint-freq", type=_non_negative_int,
                            help="checkpoint every N iterations (0: never)")
    tune_group.add_argument("--checkpoint-at-end", action=argparse.BooleanOptionalAction, default=None,
                            help="checkpoint when a trial ends (default: on, so `rllib evaluate TRIAL` has one; "
                                 "--no-checkpoint-at-end turns it off)")
    tune_group.add_argument("--keep-checkpoints-num", type=_positive_int, help="keep only the N latest checkpoints")
    ray_group = parser.add_argument_group("Ray")
    ray_group.add_argument("--ray-address", help="join a running Ray cluster (e.g. auto, or ray://HEAD:10001) "
                                                 "instead of starting one")
    ray_group.add_argument("--num-cpus", "--ray-num-cpus", dest="num_cpus", type=_positive_int,
                           help="CPUs of the local Ray instance started when there is no --ray-address")
    ray_group.add_argument("--num-gpus", "--ray-num-gpus", dest="num_gpus", type=_non_negative_int,
                           help="GPUs of the local Ray instance")
    ray_group.add_argument("--object-store-memory", "--ray-object-store-memory", dest="object_store_memory",
                           type=_positive_int, help="object store bytes of the local Ray instance")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="-v: every result in Tune's progress output, Ray INFO logs; -vv: Tune's full "
                             "results, DEBUG logs")


def add_resume_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--resume", action="store_true",
                        help="continue the experiment of the same --name and --storage-path: unfinished and errored "
                             "trials go on from their newest complete checkpoint (RLlib's former flag)")
    add_trust_flag(parser, "with --resume: continue an experiment folder that `rllib train` did not start on this "
                           "machine (Tune unpickles its files, which runs any code placed in them)")


def add_trust_flag(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help=f"{help_text}; only for files you trust (docs/reliability.md, \"Checkpoints from others\")")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Train and evaluate RLlib algorithms (EmbedPG included) through "
                                             "Ray Tune, like RLlib's former `rllib` command.")
    commands = parser.add_subparsers(dest="command", metavar="{train,evaluate,regress}", parser_class=_Parser)
    commands.required = True

    train = commands.add_parser("train", help="train an algorithm (`rllib train file F.yaml` for a tuned config)",
                                description="Train with Ray Tune. `rllib train file F.yaml [flags]` runs a tuned "
                                            "config; its flags override the file.")
    add_run_flags(train)
    add_resume_flag(train)

    train_file = _Parser(prog=f"{PROG} train file", description="Run a tuned-config YAML file; flags override it.")
    train_file.add_argument("file", help="tuned config: NAME: {env, run, stop, config}")
    add_run_flags(train_file)
    add_resume_flag(train_file)

    evaluate = commands.add_parser("evaluate", help="per-task return and success of a checkpoint",
                                   description="Evaluate a checkpoint written by `rllib train`: per-task return "
                                               "(and success where the env reports info['success']).")
    evaluate.add_argument("checkpoint", help="checkpoint folder, or a Tune trial folder (its latest checkpoint)")
    evaluate.add_argument("--episodes", type=_positive_int, default=10, help="episodes per task (default 10)")
    evaluate.add_argument("--out", help="also write the table as JSON to this file")
    evaluate.add_argument("--skill", choices=["mean", "sample"], default="mean",
                          help="EmbedPG: z = mean of p(z|t) (default) or a fresh draw per episode")
    evaluate.add_argument("--explore", action="store_true",
                          help="sample actions from the policy instead of its mean / argmax (on grids two moves "
                               "are often equally good: the argmax picks one and can stall against a wall)")
    evaluate.add_argument("--env-config", type=_json_object("--env-config"),
                          help="JSON object merged key by key over the checkpoint's env_config (same "
                               "observation and task layout as in training; new tasks: transfer)")
    evaluate.add_argument("--seed", type=int, default=0, help="evaluation seed (default 0)")
    add_trust_flag(evaluate, "read a checkpoint that has no EmbedPG plain files (another algorithm's, or one written "
                             "before them) and that `rllib train` did not write on this machine, by unpickling it, "
                             "which runs any code placed in it")

    regress = commands.add_parser("regress", help="learning-regression test: run tuned configs, exit 1 if any "
                                                  "misses its criterion",
                                  description="Run each tuned config; exit 1 unless every trial reaches the file's "
                                              "pass_criteria (else its non-budget stop keys).")
    regress.add_argument("files", nargs="+", help="tuned config YAML files")
    add_run_flags(regress)
    return parser, train_file


def parse_args(argv: List[str]) -> argparse.Namespace:
    """The arguments of `rllib ARGV...` (`train file F` has a parser of its own)."""
    parser, train_file = build_parser()
    if argv[:2] == ["train", "file"]:
        args = train_file.parse_args(argv[2:])
        args.command = "train"
    else:
        args = parser.parse_args(argv)
        args.file = None
    args.argv = list(argv)  # for the exact resume command printed after an interrupt
    args.resume = getattr(args, "resume", False)
    return args


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _run(parse_args(argv))
    except CLIError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def _run(args) -> int:
    if args.command == "train":
        from rllib_embed.cli.train import train_command
        return train_command(args)
    if args.command == "evaluate":
        from rllib_embed.cli.evaluate import evaluate_command
        return evaluate_command(args)
    from rllib_embed.cli.regression import regress_command
    return regress_command(args)


if __name__ == "__main__":
    sys.exit(main())
