"""An env runner's random streams and episodes in progress, for exact resumption from a checkpoint.

RLlib's `SingleAgentEnvRunner.get_state` keeps the module, the connectors' states (the
observation statistics, the skill-noise generator via `SampleSkillNoise.get_state`) and
the step counter. A run restored from that alone resets its envs with the initial seed
and draws fresh action noise, so it departs from the uninterrupted run at the first
iteration after the checkpoint. The state below closes that gap: the vectorised env
(each sub-env's generator `env.unwrapped.envs[i].np_random` and its position mid-episode,
gymnasium's autoreset flags), the runner's episodes in progress (with their skill noise
in `custom_data`) and the cached connector output of their last observation, the
runner's metrics windows, and the process's torch / numpy / random generators.

An env that cannot be pickled (e.g. MuJoCo's) keeps only its generators: the restored
runner starts new episodes drawn from them (reproducible from the checkpoint, but not
the continuation of the interrupted episodes).
"""

from __future__ import annotations

import logging
import random
import types
from typing import Any, Dict

import cloudpickle
import numpy as np
import torch

logger = logging.getLogger(__name__)

STREAMS = "embed_pg_streams"  # the env runner's state key (and Checkpointable component name)


def process_rng_state() -> Dict[str, Any]:
    """torch's, numpy's and Python's global generators (action draws, minibatch order)."""
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def set_process_rng_state(state: Dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def capture_streams(runner) -> bytes:
    """The runner's streams and episodes in progress, as one cloudpickled blob (bytes)."""
    streams = {
        "worker_index": runner.worker_index,
        "rng": process_rng_state(),
        "needs_initial_reset": runner._needs_initial_reset,
        "episodes": runner._ongoing_episodes,
        "episodes_for_metrics": dict(runner._ongoing_episodes_for_metrics),
        "cached_to_module": runner._cached_to_module,
        "shared_data": getattr(runner, "_shared_data", {}),
        "metrics": runner.metrics.get_state(),
        "skill_noise": _skill_noise_states(runner),
    }
    vector_env = runner.env.unwrapped
    env_fns = getattr(vector_env, "env_fns", None)
    try:
        if isinstance(env_fns, types.GeneratorType):
            vector_env.env_fns = None  # gymnasium's spent generator of env makers: not picklable, never used again
        blob = cloudpickle.dumps({**streams, "env": runner.env})
    except Exception as e:  # noqa: BLE001  (e.g. MuJoCo's env holds unpicklable handles)
        logger.warning("EmbedPG checkpoint: the env cannot be pickled (%s); keeping only its generators, so a "
                       "restored run starts new episodes", " ".join(str(e).split())[:200])
        blob = cloudpickle.dumps({**streams, "env": None, "episodes": None, "cached_to_module": None,
                                  "episodes_for_metrics": {}, "env_rngs": _env_rngs(runner)})
    finally:
        if env_fns is not None:
            vector_env.env_fns = env_fns
    return blob


def restore_streams(runner, blob: bytes) -> None:
    """Puts `capture_streams`'s blob back into ``runner`` (built from the same config)."""
    streams = cloudpickle.loads(blob)
    if streams["worker_index"] != runner.worker_index:
        return  # another runner's streams (e.g. RLlib syncing a restarted runner from the local one)
    for piece, state in zip(_skill_noise_pieces(runner), streams["skill_noise"]):
        piece.set_state(state)
    runner.metrics.set_state(streams["metrics"])
    if streams["env"] is not None:
        if runner.env is not None:
            runner.env.close()
        runner.env = streams["env"]
        runner.num_envs = runner.env.num_envs
        runner._needs_initial_reset = streams["needs_initial_reset"]
        runner._ongoing_episodes = streams["episodes"]
        runner._ongoing_episodes_for_metrics.clear()
        runner._ongoing_episodes_for_metrics.update(streams["episodes_for_metrics"])
        runner._cached_to_module = streams["cached_to_module"]
        runner._shared_data = streams["shared_data"]
    else:
        for env, rng in zip(runner.env.unwrapped.envs, streams["env_rngs"]):
            env.unwrapped.np_random = rng
        # Fresh episodes from the restored generators, not from the initial seed.
        runner._needs_initial_reset = False
        runner._reset_envs_and_episodes(explore=True)
    set_process_rng_state(streams["rng"])  # last: the reset above may draw


def _env_rngs(runner):
    return [env.unwrapped.np_random for env in runner.env.unwrapped.envs]


def _skill_noise_pieces(runner):
    from rllib_embed.embed_pg.connectors.sample_skill_noise import SampleSkillNoise
    return [piece for piece in runner._env_to_module.connectors if isinstance(piece, SampleSkillNoise)]


def _skill_noise_states(runner):
    return [piece.get_state() for piece in _skill_noise_pieces(runner)]
