"""EmbedPG's clipped update at the settings of a PPO config (`EmbedPGConfig.from_ppo`).

A user who has PPO settings that learn their body (RLlib's tuned examples, RL Zoo's
hyper-parameters) starts EmbedPG from them: the same env, env runners, batch, minibatches,
epochs, discount, GAE, clip, optimiser, value loss, networks and observation filter.
What is the method's own (the skill space, q, the alphas, the per-task standardisation)
keeps EmbedPG's defaults, but for the estimator: the score-function one (docs/estimator.md),
in which pi takes the episode's sampled z and the alpha terms reach pi only as rewards, as
the task's reward does. The estimators that also differentiate log q through the policy's
inputs (seed: through the re-parameterised action; unbiased: through z_phi) let that path
outweigh the standardised task advantage on some bodies: the skills drew apart or together
to serve q instead of the tasks (docs/learning.md).
"""

from __future__ import annotations

import math
from typing import Any, Dict, Optional

# RLlib's `fcnet_activation` names -> EmbedPG's `activation`.
_ACTIVATIONS = {"tanh": "tanh", "relu": "relu", "elu": "elu", "linear": "linear", None: "linear"}
# PPO's policy starts at log-std 0 (std 1): its Gaussian head's log-std outputs start near 0.
PPO_INIT_LOG_STD = 0.0


def embedpg_from_ppo(ppo_config, *, copies_per_task: Optional[int] = None):
    """An `EmbedPGConfig` (update="clipped") with `ppo_config`'s shared settings.

    Taken from the PPO config (RLlib's `PPOConfig`, new API stack):

    - env: `env` and `env_config` (without `flat_obs`, PPO's view of a multi-task env that
      puts the task's one-hot into the observation); the env must be a multi-task env with K
      tasks (`rllib_embed.envs.MultiTaskEnv`). `normalize_actions`, `clip_actions`.
    - sampling: the K*D envs are PPO's env count, N = max(1, num_env_runners) x
      num_envs_per_env_runner, rounded to a multiple of K (D = max(1, round(N / K)), unless
      `copies_per_task` gives D); `rollout_fragment_length` I = round(train batch / (K*D)), so
      each batch holds PPO's `train_batch_size_per_learner` env steps (to within K*D).
    - training: `gamma`, `lambda_` (1.0 where `use_gae` is off: returns minus V), `lr` (or its
      schedule), `num_epochs`, `minibatch_size`, `shuffle_batch_per_epoch`, `clip_param`,
      `grad_clip`, `grad_clip_by`, `vf_loss_coeff`, `vf_clip_param`, `kl_coeff` (0 where
      `use_kl_loss` is off) and `kl_target`; PPO's policy's starting std 1
      (`policy_init_log_std=0`). The estimator: "score".
    - networks: `fcnet_hiddens` (+ `head_fcnet_hiddens`) for the policy and V, and
      `fcnet_activation`.
    - observation filter: RLlib's `MeanStdFilter` in `env_to_module_connector` ->
      `normalize_observations=True`.
    - `seed`, `num_learners`, `num_gpus_per_learner`, `num_cpus_per_env_runner`.

    - the policy's entropy bonus: `entropy_coeff` -> `alpha3` (the weight of H[pi], EmbedPG's
      counterpart; RLlib's default and the MuJoCo settings' 0 turn it off, as PPO's does).

    Not taken: `vf_share_layers` (EmbedPG's V is its own network).

    Raises ValueError (one line, naming the field) where the PPO config cannot be carried
    over: no env, an env without tasks, `use_critic=False` (GAE needs V), an `entropy_coeff`
    schedule (alpha3 is one number), an activation
    EmbedPG has no counterpart for, or env runners that cannot host K*D envs evenly.
    """
    from ray.rllib.algorithms.ppo import PPOConfig

    from rllib_embed.embed_pg.embed_pg_config import EmbedPGConfig
    from rllib_embed.embed_pg.env_factory import count_tasks
    from rllib_embed.envs.flat_observation import FLAT_OBS_KEY

    if not isinstance(ppo_config, PPOConfig):
        raise ValueError(f"EmbedPGConfig.from_ppo takes a PPOConfig; got {type(ppo_config).__name__}")
    if ppo_config.env is None:
        raise ValueError("EmbedPGConfig.from_ppo: the PPO config has no env (set it with .environment(...))")
    if not ppo_config.use_critic:
        raise ValueError("EmbedPGConfig.from_ppo: use_critic must be True (EmbedPG's GAE advantages need V); "
                         "got False")
    env_config = {k: v for k, v in (ppo_config.env_config or {}).items() if k != FLAT_OBS_KEY}
    num_tasks = env_config.get("num_tasks") or count_tasks(ppo_config.env, env_config)
    runners = ppo_config.num_env_runners
    ppo_envs = max(1, runners) * ppo_config.num_envs_per_env_runner
    copies = copies_per_task or max(1, round(ppo_envs / num_tasks))
    envs = num_tasks * copies
    if envs % max(1, runners):
        raise ValueError(f"EmbedPGConfig.from_ppo: K*D = {num_tasks}*{copies} = {envs} envs cannot be spread evenly "
                         f"over num_env_runners={runners}; allowed: copies_per_task with K*D a multiple of "
                         f"num_env_runners, or num_env_runners=0")
    if not isinstance(ppo_config.entropy_coeff, (int, float)) or isinstance(ppo_config.entropy_coeff, bool):
        raise ValueError(f"EmbedPGConfig.from_ppo: entropy_coeff must be one number (it becomes alpha3); got "
                         f"{ppo_config.entropy_coeff!r}")
    batch = ppo_config.train_batch_size_per_learner
    fragment = max(1, round(batch / envs))

    model = ppo_config.model_config
    activation = model.get("fcnet_activation", "tanh")
    if activation not in _ACTIVATIONS:
        raise ValueError(f"EmbedPGConfig.from_ppo: fcnet_activation must be one of "
                         f"{sorted(str(a) for a in _ACTIVATIONS)}; got {activation!r}")
    hiddens = list(model.get("fcnet_hiddens", [256, 256])) + list(model.get("head_fcnet_hiddens") or [])

    config = (EmbedPGConfig()
              .environment(ppo_config.env, env_config=env_config, normalize_actions=ppo_config.normalize_actions,
                           clip_actions=ppo_config.clip_actions)
              .env_runners(num_env_runners=runners, num_envs_per_env_runner=envs // max(1, runners),
                           rollout_fragment_length=fragment,
                           num_cpus_per_env_runner=ppo_config.num_cpus_per_env_runner)
              .learners(num_learners=ppo_config.num_learners, num_gpus_per_learner=ppo_config.num_gpus_per_learner)
              .training(update="clipped", estimator="score", copies_per_task=copies,
                        gamma=ppo_config.gamma, lambda_=ppo_config.lambda_ if ppo_config.use_gae else 1.0,
                        lr=ppo_config.lr, num_epochs=ppo_config.num_epochs, minibatch_size=ppo_config.minibatch_size,
                        shuffle_batch_per_epoch=ppo_config.shuffle_batch_per_epoch,
                        clip_param=ppo_config.clip_param, grad_clip=ppo_config.grad_clip,
                        grad_clip_by=ppo_config.grad_clip_by, vf_loss_coeff=ppo_config.vf_loss_coeff,
                        vf_clip_param=_finite_or_none(ppo_config.vf_clip_param),
                        kl_coeff=ppo_config.kl_coeff if ppo_config.use_kl_loss else 0.0,
                        kl_target=ppo_config.kl_target, alpha3=float(ppo_config.entropy_coeff),
                        policy_hiddens=hiddens, value_hiddens=hiddens, activation=_ACTIVATIONS[activation],
                        policy_init_log_std=PPO_INIT_LOG_STD,
                        normalize_observations=uses_mean_std_filter(ppo_config))
              .debugging(seed=ppo_config.seed))
    return config


def uses_mean_std_filter(config) -> bool:
    """Whether the env-to-module pipeline `config` builds (RLlib's public
    `build_env_to_module_connector`, on one instance of its env) holds RLlib's MeanStdFilter."""
    from ray.rllib.connectors.env_to_module.mean_std_filter import MeanStdFilter

    from rllib_embed.embed_pg.env_factory import make_env

    env = make_env(config.env, config.env_config)
    try:
        pipeline = config.build_env_to_module_connector(env=env)
    finally:
        env.close()
    return any(isinstance(piece, MeanStdFilter) for piece in pipeline.connectors)


def _finite_or_none(value: Any) -> Optional[float]:
    return None if value is None or not math.isfinite(value) else float(value)


def ppo_settings(ppo_config) -> Dict[str, Any]:
    """The PPO settings `embedpg_from_ppo` carries over, by name (for records and docs)."""
    return {"gamma": ppo_config.gamma, "lambda_": ppo_config.lambda_, "lr": ppo_config.lr,
            "train_batch_size_per_learner": ppo_config.train_batch_size_per_learner,
            "minibatch_size": ppo_config.minibatch_size, "num_epochs": ppo_config.num_epochs,
            "clip_param": ppo_config.clip_param, "grad_clip": ppo_config.grad_clip,
            "vf_loss_coeff": ppo_config.vf_loss_coeff, "vf_clip_param": _finite_or_none(ppo_config.vf_clip_param),
            "kl_coeff": ppo_config.kl_coeff if ppo_config.use_kl_loss else 0.0, "kl_target": ppo_config.kl_target,
            "entropy_coeff": ppo_config.entropy_coeff,
            "fcnet_hiddens": list(ppo_config.model_config.get("fcnet_hiddens", [256, 256])),
            "fcnet_activation": ppo_config.model_config.get("fcnet_activation", "tanh"),
            "mean_std_filter": uses_mean_std_filter(ppo_config)}
