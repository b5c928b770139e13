from rllib_embed.embed_pg.connectors.sample_skill_noise import SampleSkillNoise
from rllib_embed.embed_pg.connectors.skill_windows import AddSkillWindowsAndSegments
from rllib_embed.embed_pg.connectors.augmented_returns import AugmentedRewardAndWeights
from rllib_embed.embed_pg.connectors.normalize_observations import NormalizeObservations, ObservationNormalizer
from rllib_embed.embed_pg.connectors.shuffle_rows import ShuffleRows

__all__ = ["SampleSkillNoise", "AddSkillWindowsAndSegments", "AugmentedRewardAndWeights", "NormalizeObservations",
           "ObservationNormalizer", "ShuffleRows"]
