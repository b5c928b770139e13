"""Reusing trained skills: a skill-space env for high-level policies, and skill blends.

Sits on top of the algorithm (imports embed_pg and envs); nothing below imports it.
"""

from rllib_embed.transfer.checkpoint import load_skills, module_checkpoint_dir, task_embeddings
from rllib_embed.transfer.interpolation import blend, interpolation_sweep, progress_along
from rllib_embed.transfer.registration import SKILL_SPACE_ENV_ID, register_skill_space_env
from rllib_embed.transfer.rollout import Rollout, low_level_action, rollout
from rllib_embed.transfer.skill_space_env import LOW_LEVEL_STEPS, SkillSpaceEnv, make_skill_space_env

__all__ = [
    "LOW_LEVEL_STEPS",
    "SKILL_SPACE_ENV_ID",
    "Rollout",
    "SkillSpaceEnv",
    "blend",
    "interpolation_sweep",
    "load_skills",
    "low_level_action",
    "make_skill_space_env",
    "module_checkpoint_dir",
    "progress_along",
    "register_skill_space_env",
    "rollout",
    "task_embeddings",
]
