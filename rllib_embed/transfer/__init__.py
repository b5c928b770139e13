"""Reusing trained skills: a skill-space env for high-level policies, skill blends, zero-shot
skills for a new task, and a few-shot search over z.

Sits on top of the algorithm (imports embed_pg and envs); nothing below imports it.
"""

from rllib_embed.transfer.checkpoint import load_skills, module_checkpoint_dir, skill_box, task_embeddings
from rllib_embed.transfer.interpolation import blend, interpolation_sweep, progress_along
from rllib_embed.transfer.registration import SKILL_SPACE_ENV_ID, register_skill_space_env
from rllib_embed.transfer.rollout import Rollout, low_level_action, rollout
from rllib_embed.transfer.search import SkillSearch, cross_entropy_method, search_skill
from rllib_embed.transfer.skill_space_env import LOW_LEVEL_STEPS, SkillSpaceEnv, make_skill_space_env
from rllib_embed.transfer.zero_shot import skill_for_value

__all__ = [
    "LOW_LEVEL_STEPS",
    "SKILL_SPACE_ENV_ID",
    "Rollout",
    "SkillSearch",
    "SkillSpaceEnv",
    "blend",
    "cross_entropy_method",
    "interpolation_sweep",
    "load_skills",
    "low_level_action",
    "make_skill_space_env",
    "module_checkpoint_dir",
    "progress_along",
    "register_skill_space_env",
    "rollout",
    "search_skill",
    "skill_box",
    "skill_for_value",
    "task_embeddings",
]
