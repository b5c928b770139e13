"""The picture command writes valid, non-empty PNGs from a real (short) training run."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rllib_embed.viz import PICTURES, make_pictures
from rllib_embed.viz.__main__ import main
from rllib_embed.viz.learning_curves import read_results, task_curves
from rllib_embed.viz.projection import LatentProjection

# (width, height) in pixels: figure size in inches x 100 dpi (rllib_embed/viz/style.py).
SIZES = {"embedding_space": (1100, 500), "inferred_skills": (600, 500), "trajectories": (600, 500),
         "interpolation": (600, 500), "behaviour": (700, 450), "learning_curves": (1000, 400)}


def _check_png(path, size):
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == size, (path, image.size)
        pixels = np.asarray(image.convert("L"), dtype=np.float64)
    assert pixels.std() > 5.0, path  # something is drawn, not a blank canvas


def test_make_pictures_writes_every_picture(trained_skills, tmp_path):
    checkpoint, _ = trained_skills
    written = make_pictures(checkpoint, tmp_path / "pictures", episodes_per_task=2)
    assert sorted(written) == sorted(set(PICTURES) - {"behaviour"})  # the Tune trial folder's results were found
    assert list(written.skipped) == ["behaviour"] and "trajectories.png" in written.skipped["behaviour"]
    for name, path in written.items():
        _check_png(path, SIZES[name])


def test_command_line_writes_the_pngs(trained_skills, tmp_path, capsys):
    import matplotlib.image

    checkpoint, trial_dir = trained_skills
    assert main([checkpoint, "--out", str(tmp_path), "--episodes", "1", "--results", trial_dir]) == 0
    printed = capsys.readouterr()
    assert "behaviour        skipped: drawn for bodies without 2-D positions" in printed.err
    for name in set(PICTURES) - {"behaviour"}:
        path = tmp_path / f"{name}.png"
        assert str(path) in printed.out
        assert matplotlib.image.imread(path).shape[:2] == SIZES[name][::-1]


def test_learning_curves_read_the_per_task_metrics(trained_skills):
    _, trial_dir = trained_skills
    rows = read_results(trial_dir)
    curves = task_curves(rows)
    assert sorted(curves["success_mean"]) == [0, 1, 2, 3]
    steps, values = curves["episode_return_mean"][0]
    assert steps == sorted(steps) and steps[-1] >= 40_000
    assert np.mean(values[-10:]) > np.mean(values[:10])  # the run learned


def test_bad_inputs_are_refused(trained_skills, tmp_path):
    checkpoint, _ = trained_skills
    with pytest.raises(ValueError, match="neither result.json nor progress.csv"):
        make_pictures(checkpoint, tmp_path, results=str(tmp_path))
    with pytest.raises(ValueError, match="episodes_per_task must be an int >= 1"):
        make_pictures(checkpoint, tmp_path, episodes_per_task=0)
    with pytest.raises(SystemExit):
        main([str(tmp_path / "missing"), "--out", str(tmp_path)])


def test_pictures_of_robot_skills_show_their_behaviour_and_say_what_is_skipped(tmp_path):
    from rllib_embed.viz.behaviour import behaviour_view
    from rllib_embed.viz.pictures import task_rollouts
    from rllib_embed.transfer import load_skills

    skills = str(Path(__file__).resolve().parents[1] / "examples" / "skills" / "halfcheetah_vel")
    written = make_pictures(skills, tmp_path, env="rllib_embed/HalfCheetahVel-v0", env_config={}, episodes_per_task=1)
    assert sorted(written) == ["behaviour", "embedding_space", "inferred_skills"]
    assert sorted(written.skipped) == ["interpolation", "learning_curves", "trajectories"]
    assert "17 numbers" in written.skipped["trajectories"]
    for name, path in written.items():
        _check_png(path, SIZES[name])
    episodes, _ = task_rollouts(load_skills(skills), "rllib_embed/HalfCheetahVel-v0", {}, 1)
    assert behaviour_view(episodes) == "x_velocity"
    speeds = [episodes[k][0].info_values("x_velocity")[40:].mean() for k in range(4)]
    assert speeds == sorted(speeds)  # the skills run at their tasks' speeds, in order: what the picture shows


def test_the_projection_keeps_tasks_apart_that_the_widest_axes_would_merge():
    # Tasks 0 and 1 differ only along the third-widest direction: the first two principal axes
    # put them on one point; the view keeps the axis that tells them apart.
    points = np.array([[0, 0, 0], [0, 0, 1], [6, 0, 0.5], [0, 4, 0.5], [6, 4, 0.5]], dtype=float)
    spread = 0.1
    widest = points[:, :2]
    assert np.linalg.norm(widest[0] - widest[1]) == 0
    projection = LatentProjection(points, spread)
    projected = projection(points)
    assert np.linalg.norm(projected[0] - projected[1]) > 0.9
    assert "PC3" in projection.labels


def test_pca_keeps_the_two_widest_directions():
    points = np.array([[0, 0, 0, 0], [4, 0, 0, 0], [0, 2, 0, 0], [4, 2, 0, 0.1]], dtype=float)
    projection = LatentProjection(points)
    projected = projection(points)
    assert projected.shape == (4, 2)
    np.testing.assert_allclose(np.ptp(projected, axis=0), [4, 2], atol=0.05)
    covariance = projection.covariance(np.array([1.0, 1.0, 1.0, 1.0]))
    np.testing.assert_allclose(covariance, np.eye(2), atol=1e-9)  # orthonormal axes keep isotropic noise


def test_moving_average_is_a_trailing_mean():
    from rllib_embed.viz.learning_curves import moving_average
    np.testing.assert_allclose(moving_average([1.0, 3.0, 5.0, 7.0], 2), [1.0, 2.0, 4.0, 6.0])
    np.testing.assert_allclose(moving_average([2.0, 4.0], 1), [2.0, 4.0])
