"""python -m rllib_embed.viz CHECKPOINT --out DIR: every picture of a trained EmbedPG checkpoint."""

from __future__ import annotations

import argparse
import json
import sys

import rllib_embed  # noqa: F401  (registers the envs the checkpoint may name)
from rllib_embed.viz import require_matplotlib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rllib_embed.viz", description=__doc__)
    parser.add_argument("checkpoint", help="EmbedPG Algorithm checkpoint (algo.save_to_path or Tune)")
    parser.add_argument("--out", required=True, help="folder to write the PNGs to")
    parser.add_argument("--results", help="result folder with result.json/progress.csv "
                                          "(default: the Tune trial folder holding the checkpoint)")
    parser.add_argument("--env", help="env id (default: the one the checkpoint was trained on)")
    parser.add_argument("--env-config", type=json.loads, default=None, help="JSON dict for --env")
    parser.add_argument("--episodes", type=int, default=3, help="rollouts per task (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trust-checkpoint", action="store_true",
                        help="read a checkpoint without EmbedPG's plain module files by unpickling it, which runs "
                             "any code placed in it: only for checkpoints you trust (docs/reliability.md)")
    args = parser.parse_args(argv)
    try:
        require_matplotlib()
    except ImportError as error:
        parser.exit(2, f"{parser.prog}: error: {error}\n")
    from rllib_embed.viz.pictures import make_pictures
    try:
        written = make_pictures(args.checkpoint, args.out, results=args.results, env=args.env,
                                env_config=args.env_config, episodes_per_task=args.episodes, seed=args.seed,
                                trust_checkpoint=args.trust_checkpoint)
    except ValueError as error:
        parser.error(str(error))
    for name, path in written.items():
        print(f"{name:16s} {path}")
    for name, why in written.skipped.items():
        print(f"{name:16s} skipped: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
