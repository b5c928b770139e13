"""Small builders shared by the tests: a module and a hand-made training batch."""

import gymnasium as gym
import numpy as np
import torch

from ray.rllib.core.columns import Columns

from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.distributions import diag_gaussian_log_prob
from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import EmbedPGTorchRLModule


def make_module(obs_dim=2, num_tasks=2, action_space=None, latent_dim=2, history_len=2, hiddens=(8,), seed=0,
                embedding_hiddens=None):
    """The module with `hiddens` for every net (`embedding_hiddens`, where given, for p(z|t))."""
    torch.manual_seed(seed)
    obs_space = gym.spaces.Dict({
        "obs": gym.spaces.Box(-np.inf, np.inf, (obs_dim,), np.float32),
        "task": gym.spaces.Box(0.0, 1.0, (num_tasks,), np.float32),
    })
    h = list(hiddens)
    return EmbedPGTorchRLModule(
        observation_space=obs_space,
        action_space=action_space or gym.spaces.Box(-1.0, 1.0, (2,), np.float32),
        model_config=dict(latent_dim=latent_dim, history_len=history_len, policy_hiddens=h,
                          embedding_hiddens=h if embedding_hiddens is None else list(embedding_hiddens),
                          inference_hiddens=h, value_hiddens=h, activation="tanh"),
    )


def use_estimator(module, estimator):
    """The module's policy input for `estimator`, as EmbedPGConfig sets it: the score estimator's
    pi takes the episode's sampled z, the others' z_phi."""
    module.model_config["policy_skill"] = "sampled" if estimator == "score" else "reparameterised"
    return module


def sample_batch(module, tasks, obs, windows, steps, seed=0):
    """Rows of `tasks`/`obs`/`windows`/`steps`; one z per segment (rows with step 0 start one).

    Draws z and actions exactly as the env runner does: z from p(z|t) via its noise,
    a from pi(.|s, z), recording the action-distribution inputs.
    """
    g = torch.Generator().manual_seed(seed)
    n = len(tasks)
    task = torch.nn.functional.one_hot(torch.as_tensor(tasks), module.num_tasks).float()
    noise = torch.empty(n, module.latent_dim)
    for i in range(n):
        noise[i] = torch.randn(module.latent_dim, generator=g) if steps[i] == 0 else noise[i - 1]
    obs = torch.as_tensor(obs, dtype=torch.float32)
    with torch.no_grad():
        emb_mean, emb_log_std = module.embedding_params(task)
        z = module.skill(task, noise)
        dist_inputs = module.policy_dist_inputs(obs, z)
        if module.discrete:
            actions = torch.multinomial(torch.softmax(dist_inputs, -1), 1, generator=g).squeeze(-1)
        else:
            mean, log_std = dist_inputs.chunk(2, -1)
            actions = mean + log_std.exp() * torch.randn(mean.shape, generator=g)
        action_logp = module.get_train_action_dist_cls().from_logits(dist_inputs).logp(actions)
        embedding_logp = diag_gaussian_log_prob(z, emb_mean, emb_log_std)
    return {
        Columns.OBS: {"obs": obs, "task": task},
        Columns.ACTIONS: actions,
        Columns.ACTION_DIST_INPUTS: dist_inputs,
        C.Z_NOISE: noise,
        C.OBS_WINDOW: torch.as_tensor(windows, dtype=torch.float32),
        C.STEP_IN_SEGMENT: torch.as_tensor(steps),
        C.TIME_LEFT: torch.ones(n),
        # What the env runner (action log-prob) and the learner's pre-update pass add.
        Columns.ACTION_LOGP: action_logp,
        C.SAMPLED_SKILL: z,
        C.EMBEDDING_LOGP_OLD: embedding_logp,
    }
