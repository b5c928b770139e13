"""Env-to-module connector: running mean/std normalisation of the robot's observation.

Policy gradients on MuJoCo bodies barely move without it: HalfCheetah's 17 numbers
range from ~0.1 (angles) to ~10 (joint velocities), so a fixed learning rate is too
large for some inputs and too small for others. This is RLlib's own `MeanStdFilter`
(running statistics, merged across env runners every iteration, kept in
checkpoints) applied to the `obs` entry only: the task one-hot must reach p(z|t)
as it is, since the embedding's entropy term evaluates p at the exact one-hots.
"""

from typing import Any, Dict, List, Optional

import gymnasium as gym
import numpy as np

from ray.rllib.connectors.env_to_module.mean_std_filter import MeanStdFilter
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.utils.filter import MeanStdFilter as RunningMeanStd
from ray.rllib.utils.typing import EpisodeType

from rllib_embed.embed_pg.columns import OBS_KEY
from rllib_embed.embed_pg.observation_statistics import ObservationNormalizer


class NormalizeObservations(MeanStdFilter):
    """(obs - running mean) / running std, clipped to +-clip_by_value (RLlib's default 10), on `obs` alone.

    Like RLlib's MeanStdFilter it rewrites each episode's newest observation in place,
    so the learner, the s^H windows and V all see the normalised values.
    """

    def __init__(self, *args, clip_by_value: Optional[float] = 10.0, **kwargs):
        self.clip_by_value = clip_by_value  # read by the space computation inside the parent's __init__
        super().__init__(*args, clip_by_value=clip_by_value, **kwargs)

    def recompute_output_observation_space(self, input_observation_space, input_action_space) -> gym.Space:
        spaces = dict(input_observation_space.spaces)
        obs = spaces[OBS_KEY]
        if self.clip_by_value:
            spaces[OBS_KEY] = gym.spaces.Box(-self.clip_by_value, self.clip_by_value, obs.shape, obs.dtype)
        return gym.spaces.Dict(spaces)

    def _init_new_filters(self, shape=None) -> None:
        # One running statistic of the `obs` Box (the parent's would also take the one-hot).
        shape = np.array(self.input_observation_space[OBS_KEY].shape if shape is None else shape)
        self._filters = {None: RunningMeanStd(shape, demean=self.de_mean_to_zero, destd=self.de_std_to_one,
                                              clip=self.clip_by_value)}

    def set_state(self, state: Dict[Any, Dict[str, Any]]) -> None:
        if self._filters is None and self.input_observation_space is None:
            # Restored on its own (`from_checkpoint`), outside a pipeline: the shape is in the state.
            self._init_new_filters(shape=next(iter(state.values()))["shape"])
        super().set_state(state)

    def __call__(self, *, rl_module: RLModule, batch: Dict[str, Any], episodes: List[EpisodeType],
                 explore: Optional[bool] = None, persistent_data: Optional[dict] = None, **kwargs) -> Any:
        if self._filters is None:
            self._init_new_filters()
        running = self._filters[None]
        for episode in self.single_agent_episode_iterator(episodes):
            obs = episode.get_observations(indices=-1)
            normalised = running(obs[OBS_KEY], update=self._update_stats)
            episode.set_observations(at_indices=-1, new_data={**obs, OBS_KEY: normalised})
            episode.observation_space = self.observation_space
        return batch

    def frozen(self) -> ObservationNormalizer:
        """The current statistics as a plain function of an `obs` array (no updates), with the
        raw `obs` space where this piece knows it (built inside a pipeline)."""
        if self._filters is None:
            self._init_new_filters()
        raw = None if self.input_observation_space is None else self.input_observation_space[OBS_KEY]
        return ObservationNormalizer.from_running_stat(self._filters[None].running_stats, self.clip_by_value, raw)
