"""Skill interpolation on PointGoals: the final position moves monotonically from goal a to goal b."""

import numpy as np
import pytest

from rllib_embed.envs import make_point_goals
from rllib_embed.transfer import blend, interpolation_sweep, load_skills, progress_along, task_embeddings

POINT_GOALS = "rllib_embed/PointGoals-v0"
WEIGHTS = np.linspace(0.0, 1.0, 11)
# Measured on the session's skills (seed 0, 250 iterations; docs/transfer.md): the progress rose by
# 0.075-0.110 per 0.1 of w in each of the four pairs and never fell; at w=0 it was -0.06..0.19,
# at w=1 0.91..1.01, total travel 0.78-1.06 (the fixture's goal-0 skill stops 0.27 short of its goal).
MONOTONE_TOLERANCE = 0.02  # allowed fall of the progress between neighbouring weights
END_TOLERANCE = 0.3  # progress at w=0 below 0.3, at w=1 above 0.7


def test_blend_is_the_convex_combination():
    a, b = np.array([1.0, -2.0]), np.array([3.0, 2.0])
    np.testing.assert_allclose(blend(a, b, 0.0), a)
    np.testing.assert_allclose(blend(a, b, 1.0), b)
    np.testing.assert_allclose(blend(a, b, 0.25), [1.5, -1.0])


def test_progress_along_projects_onto_the_segment():
    np.testing.assert_allclose(progress_along([[0, 0], [1, 1], [2, 0], [0.5, 3]], [0, 0], [2, 0]), [0, 0.5, 1, 0.25])


@pytest.mark.slow
@pytest.mark.parametrize("task_a,task_b", [(0, 1), (1, 2), (2, 3), (3, 0)])
def test_final_position_moves_monotonically_from_goal_a_to_goal_b(trained_skills, task_a, task_b):
    module = load_skills(trained_skills[0])
    goals = np.asarray(make_point_goals({"num_tasks": 4}).tasks)
    sweep = interpolation_sweep(module, POINT_GOALS, {"num_tasks": 4}, task_a, task_b, WEIGHTS, episodes=2)
    means = task_embeddings(module)[0]
    np.testing.assert_allclose(sweep.skills[5], 0.5 * (means[task_a] + means[task_b]), rtol=1e-5, atol=1e-6)
    progress = progress_along(sweep.final_observations(), goals[task_a], goals[task_b]).mean(axis=1)
    assert np.all(np.diff(progress) >= -MONOTONE_TOLERANCE), progress
    assert progress[0] < END_TOLERANCE and progress[-1] > 1 - END_TOLERANCE, progress
    assert progress[-1] - progress[0] > 0.6, progress  # it travels most of the way, not a drift


def test_sweep_refuses_unknown_tasks(trained_skills):
    module = load_skills(trained_skills[0])
    with pytest.raises(ValueError, match=r"'task_b' must be in \[0, 3\], got 4"):
        interpolation_sweep(module, POINT_GOALS, {"num_tasks": 4}, 0, 4)
