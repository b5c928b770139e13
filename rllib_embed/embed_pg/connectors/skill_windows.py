"""Learner connector: the s^H window and the segment bookkeeping of each row."""

from typing import Any, Dict, List, Optional

import numpy as np

from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.utils.typing import EpisodeType

from rllib_embed.embed_pg.columns import (ENV_ID, NEXT_OBS, OBS_KEY, OBS_WINDOW, SEGMENT_ENV, SEGMENT_ID,
                                          STEP_IN_SEGMENT, TIME_LEFT)


def observation_windows(observations: np.ndarray, num_prior: int, history_len: int) -> np.ndarray:
    """Windows (s_{i-H+1}, ..., s_i) for each step i of an episode chunk.

    `observations` holds the chunk's `num_prior` earlier observations of the same
    episode (from its lookback buffer), then one per step. Where fewer than H-1
    earlier observations exist (the episode began less than H-1 steps ago) the window
    is padded by repeating the episode's first observation s_0.
    Returns [num_steps, H, obs_dim], oldest first.
    """
    obs = observations.reshape(len(observations), -1)
    pad = history_len - 1 - num_prior
    if pad > 0:
        obs = np.concatenate([np.repeat(obs[:1], pad, axis=0), obs])
    windows = np.lib.stride_tricks.sliding_window_view(obs, history_len, axis=0)  # [n, d, H]
    return np.ascontiguousarray(windows.transpose(0, 2, 1))


class AddSkillWindowsAndSegments(ConnectorV2):
    """Adds per row: `obs_window` (s^H), `segment_id`, `segment_env`, `step_in_segment`, `time_left`.

    A segment is one episode chunk of one env's I-step sample. Windows look back
    into earlier chunks of the same episode (RLlib's episode lookback buffer, which
    `EmbedPGConfig` sizes to H-1) and never into another episode.

    `time_left` = (I - i)/I, floored at 0: a function of the step alone (see columns.py).
    With `bootstrap=True` (advantages="gae") returns reach past the sample's end through
    V, so nothing is cut short there: `time_left` is 1 on every row, and `next_obs`
    (s_{i+1}, the `obs` part) is added for V's bootstrap and TD errors.
    `segment_env` comes from the episode's custom_data (set by EmbedPGEnvRunner); an
    episode without it counts as its own env.
    """

    def __init__(self, input_observation_space=None, input_action_space=None, *, history_len: int,
                 rollout_fragment_length: int, bootstrap: bool = False, **kwargs):
        super().__init__(input_observation_space, input_action_space, **kwargs)
        self.history_len = history_len
        self.rollout_fragment_length = rollout_fragment_length
        self.bootstrap = bootstrap

    def __call__(self, *, rl_module: RLModule, batch: Dict[str, Any], episodes: List[EpisodeType],
                 explore: Optional[bool] = None, shared_data: Optional[dict] = None, **kwargs) -> Any:
        H = self.history_len
        for segment_id, episode in enumerate(self.single_agent_episode_iterator(episodes, agents_that_stepped_only=False)):
            n = len(episode)
            num_prior = min(H - 1, episode.t_started)
            obs = episode.get_observations(indices=slice(-num_prior, n), neg_index_as_lookback=True) \
                if num_prior > 0 else episode.get_observations(indices=slice(0, n))
            windows = observation_windows(np.asarray(obs[OBS_KEY]), num_prior, H)
            step = np.arange(n, dtype=np.int64)
            if self.bootstrap:
                time_left = np.ones(n)
            else:
                time_left = np.maximum(self.rollout_fragment_length - step, 0) / self.rollout_fragment_length
            env_id = episode.custom_data.get(ENV_ID, -1 - segment_id)
            columns = [
                (OBS_WINDOW, windows),
                (SEGMENT_ID, np.full(n, segment_id, dtype=np.int64)),
                (SEGMENT_ENV, np.full(n, env_id, dtype=np.int64)),
                (STEP_IN_SEGMENT, step),
                (TIME_LEFT, time_left.astype(np.float32)),
            ]
            if self.bootstrap:
                next_obs = np.asarray(episode.get_observations(indices=slice(1, n + 1))[OBS_KEY])
                columns.append((NEXT_OBS, next_obs.reshape(n, -1)))
            for column, items in columns:
                self.add_n_batch_items(batch, column, items_to_add=items, num_items=n, single_agent_episode=episode)
        return batch
