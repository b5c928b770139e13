"""Multi-task environments for rllib_embed; they know nothing of the algorithm.

Importing this package registers ``ENV_IDS`` (multi-task families) and ``NEW_TASK_ENV_IDS``
(new tasks for trained skills) with gymnasium and Ray Tune.
"""

from rllib_embed.envs.grid_goals import GridGoalEnv, grid_corner_goals, make_grid_goals
from rllib_embed.envs.multi_task import OBS_KEY, TASK_KEY, MultiTaskEnv
from rllib_embed.envs.point_goal_sequence import PointGoalSequenceEnv, make_point_goal_sequence
from rllib_embed.envs.point_goals import PointGoalEnv, goals_on_circle, make_point_goals
from rllib_embed.envs.registration import ENV_IDS, NEW_TASK_ENV_IDS, register_envs, with_flat_obs_option

__all__ = [
    "ENV_IDS",
    "NEW_TASK_ENV_IDS",
    "OBS_KEY",
    "TASK_KEY",
    "GridGoalEnv",
    "MultiTaskEnv",
    "PointGoalEnv",
    "PointGoalSequenceEnv",
    "goals_on_circle",
    "grid_corner_goals",
    "make_grid_goals",
    "make_point_goal_sequence",
    "make_point_goals",
    "register_envs",
    "with_flat_obs_option",
]

register_envs()
