"""The training run's observation statistics, as they travel with the RLModule.

With `normalize_observations` the policy was trained on (obs - mean) / std clipped to
+-clip (RLlib's `MeanStdFilter`, see connectors/normalize_observations.py). Whatever runs
the module outside RLlib's env runners (evaluation, transfer, pictures, `rllib evaluate`)
must feed it the same inputs, so the statistics are part of the module's own state
(`EmbedPGTorchRLModule.get_state()["observation_normalizer"]`): an Algorithm checkpoint,
its RLModule folder alone and `algo.get_module()` all carry them. The raw env `obs`
space is recorded with them, because the module's own space is the normalised one.
"""

from typing import Any, Dict, Optional

import gymnasium as gym
import numpy as np

from ray.rllib.utils.numpy import SMALL_NUMBER

# Key of the statistics in the module's state dict (and its module_state file).
STATE_KEY = "observation_normalizer"


class ObservationNormalizer:
    """Fixed (obs - mean) / (std + 1e-8), clipped to +-clip: RLlib's MeanStdFilter without updates.

    mean, std: arrays of the `obs` shape. clip: float or None. raw_space: the env's `obs`
    Box before normalisation (None where unknown, e.g. statistics from older checkpoints).
    """

    def __init__(self, mean: np.ndarray, std: np.ndarray, clip: Optional[float],
                 raw_space: Optional[gym.spaces.Box] = None):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        self.clip = clip
        self.raw_space = raw_space

    @classmethod
    def from_running_stat(cls, stat, clip: Optional[float],
                          raw_space: Optional[gym.spaces.Box] = None) -> "ObservationNormalizer":
        return cls(stat.mean, stat.std, clip, raw_space)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = (np.asarray(obs) - self.mean) / (self.std + SMALL_NUMBER)  # as RLlib's filter computes it
        if self.clip:
            x = np.clip(x, -self.clip, self.clip)
        return x.astype(np.asarray(obs).dtype)

    def get_state(self) -> Dict[str, Any]:
        """Plain numpy / builtin values (pickle- and msgpack-friendly)."""
        state = {"mean": self.mean, "std": self.std, "clip": self.clip}
        if self.raw_space is not None:
            state["raw_low"], state["raw_high"] = self.raw_space.low, self.raw_space.high
            state["raw_dtype"] = np.dtype(self.raw_space.dtype).str
        return state

    @classmethod
    def from_state(cls, state: Dict[str, Any]) -> "ObservationNormalizer":
        raw_space = None
        if "raw_low" in state:
            raw_space = gym.spaces.Box(np.asarray(state["raw_low"]), np.asarray(state["raw_high"]),
                                       dtype=np.dtype(state["raw_dtype"]))
        return cls(state["mean"], state["std"], state["clip"], raw_space)


def module_observation_normalizer(module, source: str = "the module") -> Optional[ObservationNormalizer]:
    """The statistics `module` was trained with; None where it was trained on raw observations.

    Raises ValueError (one line, naming `source`) where the module was trained with
    `normalize_observations` but carries no statistics: running it on raw observations
    would silently act on inputs it never saw.
    """
    normalizer = getattr(module, STATE_KEY, None)
    if normalizer is None and (getattr(module, "model_config", None) or {}).get("normalize_observations"):
        raise ValueError(f"{source} was trained with normalize_observations=True but holds no observation "
                         f"statistics; save it with EmbedPG (algo.save_to_path, Tune, algo.get_module()"
                         f".save_to_path) so that they are kept with the module")
    return normalizer
