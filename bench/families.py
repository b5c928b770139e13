"""The task families the learning benchmark runs, and the compared methods' configs.

Each family's EmbedPG layout and settings come from its tuned config
(`tuned_configs/<name>-embedpg.yaml`: env_config, D = copies_per_task, I =
rollout_fragment_length, latent_dim, lr, normalize_observations, alphas). Every method of a
run samples from the same K*D env copies on one local env runner, for the same env-step
budget. Multi-task PPO (RLlib's PPO) sees the baselines' view of the env (`flat_obs`:
observation ++ one-hot task id, the copies staggered over the tasks) at its best sensible
settings, not its defaults:

- "pointgoals": the regime that learned PointGoals in docs/learning.md (1000-step
  batches, 10 epochs, minibatch 128, lr 3e-4; tuned_configs/pointgoals-ppo.yaml).
- "mujoco": PPO's MuJoCo setting (Schulman et al. 2017, Table 3; RLlib's
  tuned_examples/ppo/halfcheetah-ppo.yaml): lr 3e-4, gamma 0.99, lambda 0.95, clip 0.2,
  10 epochs, minibatch 64, ~4000-step batches, RLlib's MeanStdFilter on the observation,
  and no value-loss clipping (RLlib's vf_clip_param=10 would clip every value error of
  returns in the hundreds).
"""

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from common import REPO_ROOT

METHODS = ("literal_seed", "literal_unbiased", "clipped_seed", "clipped_unbiased", "clipped_score", "ppo")
# Older result files named the literal update "embedpg".
METHOD_ALIASES = {"embedpg_seed": "literal_seed", "embedpg_unbiased": "literal_unbiased"}

INF = float("inf")
# PPO's settings for each body, as published for it: keys of PPOConfig.training, plus `train_batch`
# (env steps per batch), `mean_std_filter` (RLlib's MeanStdFilter on the observation) and the
# model's `fcnet_hiddens` / `fcnet_activation`; the rest are RLlib's PPO defaults. RL Zoo's
# settings are Stable-Baselines3's: no KL penalty (use_kl_loss False), no value clipping
# (vf_clip_param inf), its max_grad_norm as grad_clip, its [64, 64] tanh nets unless it names
# others, its observation normalisation as the MeanStdFilter (RL Zoo's VecNormalize also scales
# rewards, which RLlib's PPO does not).
PPO_SETTINGS = {
    # tuned_configs/pointgoals-ppo.yaml: the regime that learned PointGoals.
    "pointgoals": {"train_batch": 1000, "num_epochs": 10, "minibatch_size": 128, "lr": 3e-4},
    # Schulman et al. 2017, Table 3; RLlib's tuned_examples/ppo/halfcheetah-ppo.yaml; no value-loss
    # clipping (RLlib's vf_clip_param=10 would clip every value error of returns in the hundreds).
    "mujoco": {"train_batch": 4000, "num_epochs": 10, "minibatch_size": 64, "lr": 3e-4, "gamma": 0.99,
               "lambda_": 0.95, "clip_param": 0.2, "vf_clip_param": INF, "mean_std_filter": True},
    # RLlib's tuned_examples/ppo/pendulum_ppo.py (Pendulum-v1).
    "pendulum": {"train_batch": 1024, "minibatch_size": 128, "lr": 2e-4, "gamma": 0.95, "lambda_": 0.5,
                 "mean_std_filter": True, "fcnet_activation": "relu"},
    # RL Zoo's hyperparams/ppo.yml, CartPole-v1 (its lr and clip decay linearly to 0: constant here).
    "cartpole": {"train_batch": 256, "minibatch_size": 256, "num_epochs": 20, "lr": 1e-3, "gamma": 0.98,
                 "lambda_": 0.8, "clip_param": 0.2, "grad_clip": 0.5, "vf_loss_coeff": 0.5, "use_kl_loss": False,
                 "vf_clip_param": INF, "fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"},
    # RL Zoo's hyperparams/ppo.yml, Reacher-v2.
    "reacher": {"train_batch": 512, "minibatch_size": 32, "num_epochs": 5, "lr": 1.04e-4, "gamma": 0.9,
                "lambda_": 1.0, "clip_param": 0.3, "grad_clip": 0.9, "vf_loss_coeff": 0.95, "use_kl_loss": False,
                "vf_clip_param": INF, "mean_std_filter": True, "fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"},
    # RL Zoo's hyperparams/ppo.yml, InvertedPendulum-v3 (its batch_size 64 > its 32-step batch: 32).
    "inverted_pendulum": {"train_batch": 32, "minibatch_size": 32, "num_epochs": 5, "lr": 2.22425e-4,
                          "gamma": 0.999, "lambda_": 0.9, "clip_param": 0.4, "grad_clip": 0.3,
                          "vf_loss_coeff": 0.19816, "use_kl_loss": False, "vf_clip_param": INF,
                          "mean_std_filter": True, "fcnet_hiddens": [64, 64], "fcnet_activation": "tanh"},
}
_MODEL_KEYS = ("fcnet_hiddens", "fcnet_activation")

@dataclass(frozen=True)
class Family:
    env_id: str                  # the registered id
    tuned_config: Optional[str]  # tuned_configs/<file>: EmbedPG's layout and the literal update's settings
    success: bool                # the env reports info["success"]: steps to solve are measured
    budgets: Dict[Optional[int], int]  # env steps per run, by K (None: any K)
    eval_every: int              # env steps between evaluations
    checkpoints: Tuple[int, ...]  # env steps whose evaluations the markdown tables show
    ppo: str                     # key of PPO_SETTINGS
    num_tasks: Optional[Tuple[int, ...]] = None  # default K list where env_config takes num_tasks
    fixed_tasks: Optional[int] = None            # K where the family fixes it
    quick_budget: int = 1000
    clipped_extra: Dict[str, Any] = field(default_factory=dict)  # fields a tuned config adds to the recipe
    suite: bool = False          # a generality-suite family (bench/suite_envs.py): nobody tuned for it
    copies_per_task: int = 2     # D where no tuned config gives it

    def budget(self, k: int) -> int:
        return self.budgets.get(k, self.budgets.get(None, max(self.budgets.values())))


FAMILIES: Dict[str, Family] = {
    "PointGoals-v0": Family("rllib_embed/PointGoals-v0", "pointgoals-embedpg.yaml", True,
                            {4: 100_000, None: 160_000}, 10_000, (50_000, 100_000, 160_000), "pointgoals",
                            num_tasks=(4, 8)),
    "HalfCheetahDir-v0": Family("rllib_embed/HalfCheetahDir-v0", "halfcheetah-dir-embedpg.yaml", False,
                                {None: 300_000}, 50_000, (100_000, 200_000, 300_000), "mujoco", fixed_tasks=2,
                                quick_budget=4000),
    "HalfCheetahVel-v0": Family("rllib_embed/HalfCheetahVel-v0", "halfcheetah-vel-embedpg.yaml", False,
                                {None: 500_000}, 100_000, (250_000, 500_000), "mujoco", fixed_tasks=4,
                                quick_budget=4000),
    "AntDir-v0": Family("rllib_embed/AntDir-v0", "antdir-embedpg.yaml", False,
                        {None: 500_000}, 100_000, (250_000, 500_000), "mujoco", num_tasks=(4,), quick_budget=4000),
    "MetaWorldMT1-v0": Family("rllib_embed/MetaWorldMT1-v0", "metaworld-mt1-reach-embedpg.yaml", True,
                              {None: 150_000}, 25_000, (50_000, 100_000, 150_000), "mujoco", num_tasks=(4,),
                              quick_budget=4000),
    "MetaWorldMT10-v0": Family("rllib_embed/MetaWorldMT10-v0", "metaworld-mt10-embedpg.yaml", True,
                               {None: 1_000_000}, 100_000, (250_000, 500_000, 1_000_000), "mujoco", fixed_tasks=10,
                               quick_budget=4000),
    # The generality suite (bench/suite_envs.py): bodies nobody tuned EmbedPG for.
    "PendulumTargets-v0": Family("suite/PendulumTargets-v0", None, True, {None: 300_000}, 50_000,
                                 (100_000, 200_000, 300_000), "pendulum", fixed_tasks=4, quick_budget=1024,
                                 suite=True),
    "CartPoleTargets-v0": Family("suite/CartPoleTargets-v0", None, True, {None: 200_000}, 25_000,
                                 (50_000, 100_000, 200_000), "cartpole", fixed_tasks=4, quick_budget=256,
                                 suite=True),
    "ReacherTargets-v0": Family("suite/ReacherTargets-v0", None, True, {None: 300_000}, 50_000,
                                (100_000, 200_000, 300_000), "reacher", fixed_tasks=4, quick_budget=512, suite=True),
    "InvertedPendulumTargets-v0": Family("suite/InvertedPendulumTargets-v0", None, True, {None: 200_000}, 25_000,
                                         (50_000, 100_000, 200_000), "inverted_pendulum", fixed_tasks=4,
                                         quick_budget=64, suite=True),
}
SUITE = tuple(name for name, family in FAMILIES.items() if family.suite)


def family_of(name: str) -> Tuple[str, Family]:
    """The family named `name` (with or without its `rllib_embed/` or `suite/` prefix); one-line ValueError
    otherwise."""
    key = name.split("/", 1)[1] if name.startswith(("rllib_embed/", "suite/")) else name
    if key not in FAMILIES:
        raise ValueError(f"--env: unknown family {name!r}; allowed: {', '.join(FAMILIES)}")
    return key, FAMILIES[key]


def tuned_embedpg(family: Family) -> Dict[str, Any]:
    """The flat EmbedPG config keys of the family's tuned config (seed and stop removed); a suite
    family's: its env copies only."""
    if family.tuned_config is None:
        return {"copies_per_task": family.copies_per_task}
    from rllib_embed.cli.tuned_yaml import load_tuned_yaml
    _, experiment = load_tuned_yaml(os.path.join(REPO_ROOT, "tuned_configs", family.tuned_config))
    config = dict(experiment["config"])
    config.pop("seed", None)
    return config


def method_training(method: str) -> Dict[str, Any]:
    """EmbedPGConfig.training fields of an EmbedPG method ("ppo": none)."""
    if method == "ppo":
        return {}
    update, estimator = method.split("_", 1)
    return {"update": update, "estimator": estimator}


def check_methods(methods: List[str]) -> None:
    """One-line ValueError before any work where a method cannot be built in this checkout."""
    for m in methods:
        if m not in METHODS:
            raise ValueError(f"--methods: unknown method {m!r}; allowed: {', '.join(METHODS)}")


def layout(family: Family, num_tasks: int) -> Dict[str, Any]:
    """env_config (with K), D and I of the family's tuned config at `num_tasks` tasks."""
    tuned = tuned_embedpg(family)
    env_config = dict(tuned.get("env_config") or {})
    if family.fixed_tasks is None:
        env_config["num_tasks"] = num_tasks
    return {"env_config": env_config, "copies_per_task": int(tuned.get("copies_per_task", 1)),
            "rollout_fragment_length": int(tuned.get("rollout_fragment_length", 50))}


def embedpg_config(family: Family, method: str, num_tasks: int, seed: int, extra: Optional[Dict[str, Any]] = None,
                   train_batch: Optional[int] = None):
    """EmbedPG with `method`'s update and estimator (plus `extra`, a dict of training fields).

    Clipped methods: the general recipe, `EmbedPGConfig.from_ppo` of the family's PPO config
    (`ppo_config`: the same env copies, batch and settings), plus the fields the family's tuned
    config adds to it (`Family.clipped_extra`); `train_batch` replaces PPO's env steps per batch.
    Literal methods: the family's tuned config (a suite family's: EmbedPG's defaults).
    """
    from rllib_embed import EmbedPGConfig
    training = method_training(method)
    if training["update"] == "clipped":
        config = EmbedPGConfig.from_ppo(ppo_config(family, num_tasks, seed, train_batch=train_batch))
        return config.training(**{**training, **family.clipped_extra, **(extra or {})})
    tuned = tuned_embedpg(family)
    tuned["env_config"] = layout(family, num_tasks)["env_config"]
    config = EmbedPGConfig().update_from_dict({**tuned, "env": family.env_id})
    return (config.env_runners(num_env_runners=0, num_envs_per_env_runner=num_tasks * config.copies_per_task)
            .training(**{**training, **(extra or {})})  # --training overrides the recipe's fields
            .debugging(seed=seed))


def ppo_config(family: Family, num_tasks: int, seed: int, train_batch: Optional[int] = None):
    """RLlib's PPO at the family's PPO settings on the same K*D env copies (one local env runner)."""
    import rllib_embed  # noqa: F401  (registers the envs)
    import suite_envs  # noqa: F401  (registers the suite's families)
    from ray.rllib.algorithms.ppo import PPOConfig
    from rllib_embed.embed_pg.callbacks import EmbedPGCallbacks
    lay = layout(family, num_tasks)
    s = dict(PPO_SETTINGS[family.ppo])
    copies = num_tasks * lay["copies_per_task"]
    fragment = max(1, (train_batch or s.pop("train_batch")) // copies)
    s.pop("train_batch", None)
    model = {key: s.pop(key) for key in _MODEL_KEYS if key in s}
    config = (PPOConfig()
              .environment(family.env_id, env_config={**lay["env_config"], "flat_obs": True})
              .env_runners(num_env_runners=0, num_envs_per_env_runner=copies, rollout_fragment_length=fragment)
              .callbacks(EmbedPGCallbacks)  # per-task training metrics, as EmbedPG's
              .debugging(seed=seed))
    if model:
        config.rl_module(model_config=model)
    if s.pop("mean_std_filter", False):
        from ray.rllib.connectors.env_to_module.mean_std_filter import MeanStdFilter
        config.env_runners(env_to_module_connector=lambda env, spaces=None, device=None: MeanStdFilter(
            multi_agent=False))
    return config.training(train_batch_size_per_learner=copies * fragment, **s)


def ppo_settings_for_json(family: Family) -> Dict[str, Any]:
    return {k: (str(v) if isinstance(v, float) and v == float("inf") else v) for k, v in PPO_SETTINGS[family.ppo].items()}


def default_num_tasks(family: Family) -> List[int]:
    if family.fixed_tasks is not None:
        return [family.fixed_tasks]
    return list(family.num_tasks or (4,))


def check_num_tasks(family_name: str, family: Family, ks: List[int]) -> None:
    if family.fixed_tasks is not None and any(k != family.fixed_tasks for k in ks):
        raise ValueError(f"--num-tasks: {family_name} has K={family.fixed_tasks} tasks; got {ks}")
    if any(k < 1 for k in ks):
        raise ValueError(f"--num-tasks: K must be >= 1; got {ks}")
