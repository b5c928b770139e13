"""rllib-embed: EmbedPG, skill-embedding policy gradients for Ray RLlib.

Importing this package registers the algorithm "EmbedPG" with Ray Tune and
RLlib's algorithm registry, and the environments `rllib_embed/*` with gymnasium
and Tune.
"""

from rllib_embed import envs  # noqa: F401  (registers the environments)
from rllib_embed.embed_pg import EmbedPG, EmbedPGConfig
from rllib_embed.registration import register_algorithm

register_algorithm()

from rllib_embed.transfer.registration import register_skill_space_env  # noqa: E402  (rllib_embed/SkillSpace-v0)

register_skill_space_env()

__all__ = ["EmbedPG", "EmbedPGConfig", "envs"]
__version__ = "0.1.0"
