"""Env-to-module connector: one skill draw per episode, held for the whole episode."""

from typing import Any, Dict, List, Optional

import numpy as np

from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.core.rl_module.rl_module import RLModule
from ray.rllib.utils.typing import EpisodeType

from rllib_embed.embed_pg.columns import Z_NOISE


class SampleSkillNoise(ConnectorV2):
    """Adds the episode's skill noise eps_z to the batch (column `z_noise`).

    eps_z ~ N(0, I) is drawn when an episode starts and kept in the episode's
    `custom_data`, which RLlib carries across segment boundaries (`episode.cut()`),
    so `z = mu_phi(t) + sigma_phi(t) * eps_z` stays fixed for the whole episode. The
    module turns the noise into z with the current weights and echoes it back, so the
    env runner records it per step for the learner.
    """

    def __init__(self, input_observation_space=None, input_action_space=None, *, latent_dim: int,
                 seed: Optional[int] = None, **kwargs):
        super().__init__(input_observation_space, input_action_space, **kwargs)
        self.latent_dim = latent_dim
        self._rng = np.random.default_rng(seed)

    def seed(self, seed: Optional[int]) -> None:
        """Re-seed the skill draws (the env runner seeds each runner differently)."""
        self._rng = np.random.default_rng(seed)

    # Checkpointable: the generator's position, so a restored run draws the skills the
    # uninterrupted one would (RLlib checkpoints each connector's get_state()). Runners
    # draw different streams, so merging states across runners keeps none of them.
    def get_state(self, components=None, *, not_components=None, **kwargs) -> Dict[str, Any]:
        return {"bit_generator": self._rng.bit_generator.state}

    def set_state(self, state: Dict[str, Any]) -> None:
        if state and "bit_generator" in state:
            self._rng.bit_generator.state = state["bit_generator"]

    def merge_states(self, states: List[Dict[str, Any]]) -> Dict[str, Any]:
        return {}

    def __call__(self, *, rl_module: RLModule, batch: Dict[str, Any], episodes: List[EpisodeType],
                 explore: Optional[bool] = None, shared_data: Optional[dict] = None, **kwargs) -> Any:
        for episode in self.single_agent_episode_iterator(episodes):
            if Z_NOISE not in episode.custom_data:
                episode.custom_data[Z_NOISE] = self._rng.standard_normal(self.latent_dim).astype(np.float32)
            self.add_batch_item(batch, Z_NOISE, episode.custom_data[Z_NOISE], single_agent_episode=episode)
        return batch
