"""Trains robot skills to reuse: those shipped in examples/skills/<name>.

    python examples/train_robot_skills.py halfcheetah_vel --out cheetah_skills --env-steps 1500000
    python examples/train_robot_skills.py halfcheetah_vel --out cheetah_skills --resume   # the newest checkpoint on

The general recipe (docs/learning.md): `EmbedPGConfig.from_ppo` of RLlib's PPO at its
MuJoCo settings (Schulman et al. 2017, Table 3; RLlib's tuned_examples/ppo/halfcheetah-ppo.yaml:
4,000-step batches, 10 epochs, minibatch 64, lr 3e-4, gamma 0.99, lambda 0.95, clip 0.2,
MeanStdFilter, no value clipping), K tasks x D=2 env copies on one local env runner, seed 0:

- halfcheetah_vel: `rllib_embed/HalfCheetahVel-v0`, target speeds 0.5, 1.0, 1.5 and 2.0 m/s;
- ant_dir: `rllib_embed/AntDir-v0`, K=4 walking directions (0, 90, 180, 270 degrees).

An Algorithm checkpoint is written every --checkpoint-every env steps
(`OUT/checkpoint_<env steps>`), and at the end the learner's RLModule (pi, p, q and V) alone
(`OUT/module`: the plain JSON + tensor files that `rllib_embed.transfer.load_skills` reads
without unpickling).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import time

TARGET_VELOCITIES = [0.5, 1.0, 1.5, 2.0]
SKILLS = {  # name: (env, env_config)
    "halfcheetah_vel": ("rllib_embed/HalfCheetahVel-v0", {"target_velocities": TARGET_VELOCITIES}),
    "ant_dir": ("rllib_embed/AntDir-v0", {"num_tasks": 4}),
}


def ppo_mujoco(env: str, env_config: dict, seed: int = 0, envs: int = 8):
    """RLlib's PPO at its MuJoCo settings on ``envs`` env copies of one local env runner."""
    from ray.rllib.algorithms.ppo import PPOConfig
    from ray.rllib.connectors.env_to_module.mean_std_filter import MeanStdFilter

    return (PPOConfig()
            .environment(env, env_config=env_config)
            .env_runners(num_env_runners=0, num_envs_per_env_runner=envs, rollout_fragment_length=4000 // envs,
                         env_to_module_connector=lambda env, spaces=None, device=None: MeanStdFilter(
                             multi_agent=False))
            .training(train_batch_size_per_learner=4000, num_epochs=10, minibatch_size=64, lr=3e-4, gamma=0.99,
                      lambda_=0.95, clip_param=0.2, vf_clip_param=float("inf"))
            .debugging(seed=seed))


def recipe_config(name: str, seed: int = 0):
    """EmbedPG's general recipe for skills `name`: from_ppo of PPO at its MuJoCo settings, K*D = 4*2."""
    from rllib_embed import EmbedPGConfig

    env, env_config = SKILLS[name]
    return EmbedPGConfig.from_ppo(ppo_mujoco(env, env_config, seed))


def newest_checkpoint(out: str) -> str | None:
    found = [(int(m.group(1)), name) for name in os.listdir(out) if (m := re.fullmatch(r"checkpoint_(\d+)", name))]
    return os.path.join(out, max(found)[1]) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("skills", choices=sorted(SKILLS), help="which skills")
    parser.add_argument("--out", required=True, help="folder for the checkpoints and the module")
    parser.add_argument("--env-steps", type=int, default=1_500_000)
    parser.add_argument("--checkpoint-every", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT's newest checkpoint")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    resume_from = newest_checkpoint(args.out) if args.resume else None
    if args.resume and resume_from is None:
        raise SystemExit(f"--resume: {args.out} holds no checkpoint_<env steps> folder")

    import torch
    torch.set_num_threads(1)
    import rllib_embed  # noqa: F401  (registers the envs)
    from rllib_embed.embed_pg.module_checkpoint import MODULE_SUBDIR
    from rllib_embed.embed_pg.plain_files import MODULE_FILE, WEIGHTS_FILE

    algo = recipe_config(args.skills, args.seed).build_algo()
    if resume_from is not None:
        algo.restore_from_path(resume_from)
        print(f"resumed from {resume_from}", flush=True)
    steps = int(resume_from.rsplit("_", 1)[1]) if resume_from else 0
    next_checkpoint = (steps // args.checkpoint_every + 1) * args.checkpoint_every
    start = time.time()
    while steps < args.env_steps:
        result = algo.train()
        runners = result["env_runners"]
        steps = int(runners["num_env_steps_sampled_lifetime"])
        tasks = runners.get("tasks", {})
        returns = [tasks.get(f"task_{k}", {}).get("episode_return_mean") for k in range(algo.config.num_tasks)]
        print(f"{steps} env steps, {time.time() - start:.0f} s, training return per task "
              + " / ".join("-" if r is None else f"{r:.0f}" for r in returns), flush=True)
        if steps >= next_checkpoint or steps >= args.env_steps:
            algo.save_to_path(os.path.abspath(os.path.join(args.out, f"checkpoint_{steps}")))
            next_checkpoint += args.checkpoint_every
    # The learner's module (pi, p, q and V; the env runners hold pi and p only): its plain files.
    final = newest_checkpoint(args.out)
    module = os.path.join(args.out, "module")
    os.makedirs(module, exist_ok=True)
    for name in (MODULE_FILE, WEIGHTS_FILE):
        shutil.copy2(os.path.join(final, MODULE_SUBDIR, name), module)
    print(f"module: {module}", flush=True)


if __name__ == "__main__":
    main()
