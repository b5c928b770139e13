"""Loading the frozen skills (an EmbedPG RLModule) out of a checkpoint."""

from __future__ import annotations

import os
import pickle
from typing import Any

import numpy as np
import torch
from ray.rllib.algorithms.algorithm_config import AlgorithmConfig
from ray.rllib.utils.checkpoints import Checkpointable

from rllib_embed.embed_pg.checkpoint_files import (MANIFEST, MARKER, CheckpointError, UntrustedCheckpointError,
                                                   resolve_checkpoint, tune_checkpoints)
from rllib_embed.embed_pg.module_checkpoint import load_module, module_checkpoint_dir  # noqa: F401  (re-exported)
from rllib_embed.embed_pg.plain_files import RUN_FILE, read_run_file
from rllib_embed.embed_pg.observation_statistics import module_observation_normalizer
from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import EmbedPGTorchRLModule


def resolve_skills_checkpoint(checkpoint: str | os.PathLike) -> str:
    """The checkpoint ``checkpoint`` means: a complete Algorithm checkpoint (a Tune trial or
    experiment folder's newest complete one, said on stderr), else the path as it is (an RLModule
    folder). Raises CheckpointError (a ValueError) naming the incomplete checkpoint or damaged file."""
    path = os.path.abspath(os.fspath(checkpoint))
    if not os.path.isdir(path):
        return os.fspath(checkpoint)  # module_checkpoint_dir says what is wrong
    is_algorithm_checkpoint = os.path.isfile(os.path.join(path, MARKER)) or os.path.isfile(os.path.join(path, MANIFEST))
    is_tune_folder = bool(tune_checkpoints(path)) or any(
        tune_checkpoints(os.path.join(path, sub)) for sub in os.listdir(path))  # a trial or an experiment folder
    return resolve_checkpoint(path) if is_algorithm_checkpoint or is_tune_folder else os.fspath(checkpoint)


def load_skills(checkpoint: str | os.PathLike, *, trust_checkpoint: bool = False) -> EmbedPGTorchRLModule:
    """The checkpoint's EmbedPG RLModule, frozen: eval mode, no parameter requires grad.

    ``checkpoint``: an Algorithm checkpoint, a Tune trial folder (its newest complete
    checkpoint) or an RLModule folder. It carries the training run's observation statistics
    (`module.observation_normalizer`, see rllib_embed.embed_pg.observation_statistics) where
    it was trained with them. Raises ValueError where the checkpoint holds another algorithm's
    module, or a module trained with normalize_observations but without its statistics;
    CheckpointError (a ValueError) where it is incomplete or a file is damaged, and
    UntrustedCheckpointError (one) where it holds no EmbedPG plain module files and
    ``trust_checkpoint`` is not given (`module_checkpoint.load_module`).
    """
    module = load_module(resolve_skills_checkpoint(checkpoint), trust_checkpoint=trust_checkpoint)
    if not isinstance(module, EmbedPGTorchRLModule):
        raise ValueError(f"checkpoint: {os.fspath(checkpoint)!r} holds a {type(module).__name__}, not an EmbedPG "
                         f"module (EmbedPGTorchRLModule); skills can only be reused from EmbedPG checkpoints")
    module_observation_normalizer(module, f"checkpoint {os.fspath(checkpoint)!r}")  # refuses a module without them
    module.eval()
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module


def task_embeddings(module: EmbedPGTorchRLModule) -> tuple[np.ndarray, np.ndarray]:
    """Means and standard deviations of p(z|t) for every task t: two [K, latent_dim] arrays."""
    with torch.no_grad():
        mean, log_std = module.embedding_params(torch.eye(module.num_tasks))
    return mean.numpy().astype(np.float64), np.exp(log_std.numpy()).astype(np.float64)


def skill_box(module: EmbedPGTorchRLModule, bound_stds: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """(low, high), two float32 [latent_dim] arrays: per dimension, ``min_t(mu_t - bound_stds * sigma_t)``
    and ``max_t(mu_t + bound_stds * sigma_t)`` over the trained tasks' p(z|t). pi was trained only
    on z drawn from p(z|t): the box holds (nearly all of) every task's skills and every blend of
    their means, and keeps a search or a high-level policy out of latent regions pi never saw."""
    means, stds = task_embeddings(module)
    return ((means - bound_stds * stds).min(axis=0).astype(np.float32),
            (means + bound_stds * stds).max(axis=0).astype(np.float32))


def checkpoint_env(checkpoint: str | os.PathLike, *, trust_checkpoint: bool = False) -> tuple[Any, dict]:
    """(env, env_config) the Algorithm checkpoint was trained on: from its plain `RUN_FILE`, or
    (a checkpoint without one, only with ``trust_checkpoint``) from its unpickled AlgorithmConfig.

    Raises ValueError for a checkpoint that does not record its env (e.g. an RLModule folder),
    UntrustedCheckpointError where only unpickling would tell and ``trust_checkpoint`` is not given.
    """
    run = read_run_file(checkpoint) if os.path.isdir(os.fspath(checkpoint)) else None
    path = os.path.join(os.fspath(checkpoint), Checkpointable.CLASS_AND_CTOR_ARGS_FILE_NAME)
    env = env_config = None
    if run is not None:
        env, env_config = run["env"], run["env_config"]
    elif os.path.isfile(path):
        if not trust_checkpoint:
            raise UntrustedCheckpointError(os.fspath(checkpoint), RUN_FILE)
        try:
            with open(path, "rb") as f:
                args = pickle.load(f)["ctor_args_and_kwargs"][0]
        except Exception as e:  # noqa: BLE001  (a truncated pickle raises almost anything)
            raise CheckpointError(f"damaged checkpoint file {path}: {type(e).__name__}: "
                                  f"{' '.join(str(e).split())[:200]}") from None
        for arg in args:  # the Algorithm's config: an AlgorithmConfig or its to_dict()
            if isinstance(arg, AlgorithmConfig):
                env, env_config = arg.env, arg.env_config
            elif isinstance(arg, dict) and "env" in arg:
                env, env_config = arg["env"], arg.get("env_config")
    if env is None:
        raise ValueError(f"checkpoint: {os.fspath(checkpoint)!r} does not record its env (an RLModule checkpoint, "
                         f"or an env given as a class rather than a registered name?); give the env and "
                         f"env_config explicitly")
    return env, dict(env_config or {})
