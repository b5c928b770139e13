"""The EmbedPG RLModule: policy pi(a|s,z), embedding p(z|t), inference q(z|a,s^H), value V(s,z).

Observations are `Dict({"obs": Box, "task": one-hot Box})` (see
`rllib_embed.envs.MultiTaskEnv`). The task one-hot reaches only the embedding net;
the policy sees `obs` and `z` and nothing else.
"""

import os
from typing import Any, Dict, List, Optional, Tuple

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import InferenceOnlyAPI, ValueFunctionAPI
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.core.rl_module.torch import TorchRLModule

from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.columns import OBS_KEY, TASK_KEY
from rllib_embed.embed_pg.observation_statistics import STATE_KEY as OBSERVATION_NORMALIZER, ObservationNormalizer
from rllib_embed.embed_pg.plain_files import MODULE_FILE, WEIGHTS_FILE, module_files_data, write_bytes
# Bounds on every log-std output (policy, p, q): a parameterisation choice that
# keeps densities finite; it does not change the objective's form. The policy's upper
# bound is lower where its actions are bounded (policy_log_std_max).
LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0
# Initial p(z|t). Skills start well apart relative to their spread (else the policy cannot
# tell tasks apart from z and settles on the tasks' average, or two tasks' skills overlap
# and one task lags for tens of thousands of steps): the K means orthogonal, each
# EMBEDDING_INIT_GAIN from 0 (K <= Z; about that times sqrt(Z/K) for K > Z), and every
# task's every dimension with the same std exp(model_config["embedding_init_log_std"]),
# EMBEDDING_INIT_LOG_STD where absent (EmbedPGConfig.embedding_init_log_std: per update).
EMBEDDING_INIT_LOG_STD = -1.0
EMBEDDING_INIT_GAIN = 2.0
# forward_train's passes of q (model_config["inference_passes"]); all where the key is absent.
INFERENCE_PASSES = ("reparameterised", "sampled")
# Exploration noise starts moderate (std 0.61), where model_config has no "policy_init_log_std"
# (EmbedPGConfig.policy_init_log_std).
POLICY_INIT_LOG_STD = -0.5

_ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU, "linear": nn.Identity}


def _mlp(in_dim: int, hiddens: List[int], out_dim: int, activation: str, out_gain: float) -> nn.Sequential:
    layers: List[nn.Module] = []
    for h in hiddens:
        linear = nn.Linear(in_dim, h)
        nn.init.orthogonal_(linear.weight, gain=np.sqrt(2.0))
        nn.init.zeros_(linear.bias)
        layers += [linear, _ACTIVATIONS[activation]()]
        in_dim = h
    out = nn.Linear(in_dim, out_dim)
    nn.init.orthogonal_(out.weight, gain=out_gain)
    nn.init.zeros_(out.bias)
    layers.append(out)
    return nn.Sequential(*layers)


def _init_log_std_bias(net: nn.Sequential, dim: int, value: float, cap: Any = LOG_STD_MAX) -> None:
    """Sets the bias of the log-std half of a [mean, log_std] output layer to `value`, at most
    `cap` (per dim): above the clamp of `_mean_and_log_std` the log-std would get no gradient."""
    with torch.no_grad():
        net[-1].bias[dim:] = torch.clamp(torch.as_tensor(value, dtype=torch.float32), max=torch.as_tensor(cap))


def _init_embedding_output(net: nn.Sequential, dim: int, log_std: float = EMBEDDING_INIT_LOG_STD) -> None:
    """p(z|t)'s output layer: orthogonal mean weights (gain EMBEDDING_INIT_GAIN), and a
    log-std that starts at `log_std` for every task (zero weights)."""
    out = net[-1]
    with torch.no_grad():
        nn.init.orthogonal_(out.weight[:dim], gain=EMBEDDING_INIT_GAIN)
        out.weight[dim:] = 0.0
    _init_log_std_bias(net, dim, log_std)


def reparameterise(mean: torch.Tensor, log_std: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """x = mean + exp(log_std) * noise: a Gaussian draw as a function of its parameters."""
    return mean + torch.exp(log_std) * noise


def _mean_and_log_std(params: torch.Tensor, log_std_max: Any = LOG_STD_MAX) -> Tuple[torch.Tensor, torch.Tensor]:
    mean, log_std = params.chunk(2, dim=-1)
    return mean, log_std.clamp(min=LOG_STD_MIN).clamp(max=log_std_max)


def policy_log_std_max(action_space: gym.spaces.Box, normalize_actions: bool = True) -> torch.Tensor:
    """Upper bound of the policy's log-std, per action dim ([action_dim] float32): log of
    half the action range in the policy's units, so its std is at most that half range.

    With RLlib's `normalize_actions` (its default) and a Box that RLlib unsquashes (bounded on
    every dim, float dtype: the condition of RLlib's `unsquash_action`), the policy acts in
    [-1, 1] (bound 0); otherwise in the env's units (bound log((high - low) / 2)), and
    LOG_STD_MAX where a dim is unbounded.

    Why: a wider Gaussian only adds samples that get clipped to the bounds, where the
    log-std's score has no signal. A task's std that drifts up to the bound stays there (the
    clamp cuts its gradient) and the task is stuck (PointGoals K=8 at the old bound 2: one
    task of eight at std 7.4 after 50k steps, its return no better than a random walk's).
    """
    low = action_space.low.astype(np.float64).reshape(-1)
    high = action_space.high.astype(np.float64).reshape(-1)
    unsquashed = action_space.is_bounded("both") and action_space.dtype in (np.float32, np.float64)
    if normalize_actions and unsquashed:
        return torch.zeros(low.shape[0], dtype=torch.float32)
    half_range = (high - low) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(np.isfinite(half_range) & (half_range > 0), np.log(half_range), LOG_STD_MAX)
    return torch.as_tensor(np.minimum(bound, LOG_STD_MAX), dtype=torch.float32)


class EmbedPGTorchRLModule(TorchRLModule, ValueFunctionAPI, InferenceOnlyAPI):
    """Three networks of the method (plus an optional value baseline) in one RLModule.

    `model_config` keys (filled in by `EmbedPGConfig`): latent_dim, history_len,
    policy_hiddens, embedding_hiddens, inference_hiddens, value_hiddens, activation,
    embedding_init_log_std, policy_init_log_std, inference_passes (a subset of INFERENCE_PASSES).
    """

    def setup(self):
        cfg = self.model_config
        obs_space = self.observation_space
        if not (isinstance(obs_space, gym.spaces.Dict) and set(obs_space.spaces) == {OBS_KEY, TASK_KEY}):
            raise ValueError(
                "EmbedPG needs observations of the form Dict({'obs': Box, 'task': one-hot Box}) "
                f"(wrap the env in rllib_embed.envs.MultiTaskEnv); got {obs_space}"
            )
        if not isinstance(obs_space[OBS_KEY], gym.spaces.Box):
            raise ValueError(f"EmbedPG supports Box 'obs' spaces; got {obs_space[OBS_KEY]}")
        self.obs_dim = int(np.prod(obs_space[OBS_KEY].shape))
        # The training run's observation statistics (normalize_observations), kept in the
        # module's state so that they travel with it; set by EmbedPG, None without them.
        self.observation_normalizer: Optional[ObservationNormalizer] = None
        self.num_tasks = int(obs_space[TASK_KEY].shape[0])
        self.latent_dim = int(cfg["latent_dim"])
        self.history_len = int(cfg["history_len"])
        if isinstance(self.action_space, gym.spaces.Discrete):
            self.discrete = True
            self.action_dim = int(self.action_space.n)
            dist_dim = self.action_dim
        elif isinstance(self.action_space, gym.spaces.Box):
            self.discrete = False
            self.action_dim = int(np.prod(self.action_space.shape))
            dist_dim = 2 * self.action_dim
            # Not in the state dict (a property of the action space, not learned).
            self.register_buffer("policy_log_std_max", policy_log_std_max(
                self.action_space, bool(cfg.get("normalize_actions", True))), persistent=False)
        else:
            raise ValueError(f"EmbedPG supports Box and Discrete action spaces; got {self.action_space}")
        act = cfg["activation"]
        Z = self.latent_dim
        # pi(a | s, z): never sees the task id.
        self.policy_net = _mlp(self.obs_dim + Z, cfg["policy_hiddens"], dist_dim, act, out_gain=0.01)
        # p(z | t): Gaussian over z from the task one-hot.
        self.embedding_net = _mlp(self.num_tasks, cfg["embedding_hiddens"], 2 * Z, act, out_gain=1.0)
        _init_embedding_output(self.embedding_net, Z, float(cfg.get("embedding_init_log_std", EMBEDDING_INIT_LOG_STD)))
        if not self.discrete:
            _init_log_std_bias(self.policy_net, self.action_dim,
                               float(cfg.get("policy_init_log_std", POLICY_INIT_LOG_STD)), self.policy_log_std_max)
        if not self.inference_only:
            # q(z | a, s^H): from the action and the last H observations.
            self.inference_net = _mlp(
                self.action_dim + self.history_len * self.obs_dim, cfg["inference_hiddens"], 2 * Z, act, out_gain=0.01
            )
            self.value_net = _mlp(self.obs_dim + Z + 1, cfg["value_hiddens"], 1, act, out_gain=1.0)

    # ---- the networks, as functions -------------------------------------------------
    def embedding_params(self, task_onehot: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(mean, log_std) of p_phi(z | t)."""
        return _mean_and_log_std(self.embedding_net(task_onehot))

    def skill(self, task_onehot: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """z_phi = mu_phi(t) + sigma_phi(t) * noise (re-parameterised draw from p(z|t))."""
        return reparameterise(*self.embedding_params(task_onehot), noise)

    def policy_dist_inputs(self, obs: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Action-distribution inputs of pi_theta(. | s, z): [mean, log_std] or logits."""
        out = self.policy_net(torch.cat([self.flat_obs(obs), z], dim=-1))
        if self.discrete:
            return out
        mean, log_std = _mean_and_log_std(out, self.policy_log_std_max)
        return torch.cat([mean, log_std], dim=-1)

    def inference_params(self, action_features: torch.Tensor, obs_window: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """(mean, log_std) of q_psi(z | a, s^H); `obs_window` is [B, H, obs_dim]."""
        x = torch.cat([action_features, obs_window.reshape(obs_window.shape[0], -1)], dim=-1)
        return _mean_and_log_std(self.inference_net(x))

    def value(self, obs: torch.Tensor, z: torch.Tensor, time_left: torch.Tensor) -> torch.Tensor:
        """V(s, z, time left), the baseline of the policy's score term.

        Returns are truncated at the segment's end, so how much is left to collect
        depends on the time left, which the state does not show.
        """
        return self.value_net(torch.cat([self.flat_obs(obs), z, time_left.float()[:, None]], dim=-1)).squeeze(-1)

    def action_features(self, actions: torch.Tensor) -> torch.Tensor:
        """What q sees of an action: the action itself, or its one-hot when discrete."""
        if self.discrete:
            return nn.functional.one_hot(actions.long(), self.action_dim).float()
        return actions.reshape(actions.shape[0], -1).float()

    def reparam_actions(self, batch: Dict[str, Any], dist_inputs: torch.Tensor) -> torch.Tensor:
        """a_i(theta, phi) = mu_theta(s_i, z_phi) + sigma_theta(s_i, z_phi) * eps_i.

        eps_i is recovered from the sampled action and the distribution it was drawn
        from. Discrete actions have no such path: their one-hot is returned as a constant.
        """
        actions = batch[Columns.ACTIONS]
        if self.discrete:
            return self.action_features(actions)
        old_mean, old_log_std = batch[Columns.ACTION_DIST_INPUTS].chunk(2, dim=-1)
        eps = (actions - old_mean) * torch.exp(-old_log_std)
        return reparameterise(*dist_inputs.chunk(2, dim=-1), eps)

    def flat_obs(self, obs: torch.Tensor) -> torch.Tensor:
        return obs.reshape(obs.shape[0], -1).float()

    def batch_skill(self, batch: Dict[str, Any]) -> torch.Tensor:
        """The episode's z for each row: given directly, or rebuilt from its noise."""
        if C.SKILL in batch:
            return batch[C.SKILL].float()
        return self.skill(batch[Columns.OBS][TASK_KEY].float(), batch[C.Z_NOISE].float())

    # ---- RLModule API -----------------------------------------------------------------
    def _forward(self, batch: Dict[str, Any], **kwargs) -> Dict[str, Any]:
        z = self.batch_skill(batch)
        out = {Columns.ACTION_DIST_INPUTS: self.policy_dist_inputs(batch[Columns.OBS][OBS_KEY], z)}
        if C.Z_NOISE in batch:
            out[C.Z_NOISE] = batch[C.Z_NOISE]  # echoed so the env runner records it per step
        return out

    def forward_train(self, batch: Dict[str, Any], **kwargs) -> Dict[str, Any]:
        # TorchRLModule.forward_train calls self.train() each time: a walk that sets the mode
        # of every submodule (about a fortieth of a clipped-update step with four networks).
        # forward_inference / forward_exploration restore the mode they found, so the walk
        # is needed only where some submodule is not in training mode.
        if not all(m.training for m in self.modules()):
            self.train()
        return RLModule.forward_train(self, batch, **kwargs)

    def _forward_train(self, batch: Dict[str, Any], **kwargs) -> Dict[str, Any]:
        """Every network output the EmbedPG surrogate needs, with gradients."""
        obs, task = batch[Columns.OBS][OBS_KEY], batch[Columns.OBS][TASK_KEY].float()
        emb_mean, emb_log_std = self.embedding_params(task)
        z_phi = reparameterise(emb_mean, emb_log_std, batch[C.Z_NOISE].float())
        # The policy's skill: z_phi (the seed and unbiased estimators: phi reaches pi through it),
        # or the episode's sampled z, a constant (the score estimator).
        policy_z = batch[C.SAMPLED_SKILL].float() if self.model_config.get("policy_skill") == "sampled" else z_phi
        dist_inputs = self.policy_dist_inputs(obs, policy_z)
        window = batch[C.OBS_WINDOW].float()
        eye = torch.eye(self.num_tasks, device=task.device)
        out = {
            C.Z_PHI: z_phi,
            C.EMBEDDING_MEAN: emb_mean,
            C.EMBEDDING_LOG_STD: emb_log_std,
            C.ALL_TASKS_EMBEDDING_LOG_STD: self.embedding_params(eye)[1],
            Columns.ACTION_DIST_INPUTS: dist_inputs,
            Columns.VF_PREDS: self.value(obs, z_phi.detach(), batch[C.TIME_LEFT]),
        }
        # q's passes: with the re-parameterised action (the seed estimator's log q) and with
        # the sampled one (the unbiased estimator's); model_config["inference_passes"] names
        # the ones a run needs (EmbedPGConfig: its estimator's), both where absent.
        passes = self.model_config.get("inference_passes", INFERENCE_PASSES)
        if "reparameterised" in passes:
            out[C.Q_MEAN_REPARAM_ACTION], out[C.Q_LOG_STD_REPARAM_ACTION] = self.inference_params(
                self.reparam_actions(batch, dist_inputs), window)
        if "sampled" in passes:
            out[C.Q_MEAN_SAMPLED_ACTION], out[C.Q_LOG_STD_SAMPLED_ACTION] = self.inference_params(
                self.action_features(batch[Columns.ACTIONS]), window)
        return out

    def compute_values(self, batch: Dict[str, Any], embeddings: Optional[Any] = None) -> torch.Tensor:
        time_left = batch.get(C.TIME_LEFT)
        if time_left is None:  # outside training: as at the start of a segment
            time_left = torch.ones(batch[Columns.OBS][OBS_KEY].shape[0])
        return self.value(batch[Columns.OBS][OBS_KEY], self.batch_skill(batch).detach(), time_left)

    def get_state(self, *args, **kwargs) -> Dict[str, Any]:
        state = super().get_state(*args, **kwargs)
        if self.observation_normalizer is not None:
            state[OBSERVATION_NORMALIZER] = self.observation_normalizer.get_state()
        return state

    def set_state(self, state: Dict[str, Any]) -> None:
        state = dict(state)
        normalizer = state.pop(OBSERVATION_NORMALIZER, None)
        if normalizer is not None:
            self.observation_normalizer = ObservationNormalizer.from_state(normalizer)
        super().set_state(state)

    def save_to_path(self, path=None, *, state=None, filesystem=None, use_msgpack=False) -> str:
        """RLlib's `Checkpointable.save_to_path`, plus the module's plain files beside its pickles
        (`plain_files.MODULE_FILE` and `WEIGHTS_FILE`): what `rllib evaluate`, transfer and
        the pictures load without unpickling. A relative local ``path`` is taken from the
        working directory. Returns the folder written."""
        if path is not None and filesystem is None:
            import pyarrow.fs

            path = os.fspath(path)
            filesystem, path = pyarrow.fs.FileSystem.from_uri(path if "://" in path else os.path.abspath(path))
        saved = super().save_to_path(path, state=state, filesystem=filesystem, use_msgpack=use_msgpack)
        files = module_files_data(self.get_ctor_args_and_kwargs()[1], self.get_state() if state is None else state)
        if files is not None:  # else (a space or model_config without a plain form): RLlib's files only
            for name, data in zip((MODULE_FILE, WEIGHTS_FILE), files):
                write_bytes(os.path.join(saved, name), data, filesystem)
        return saved

    def get_non_inference_attributes(self) -> List[str]:
        return ["inference_net", "value_net"]
