"""Issue 12 section 4: skills trained with normalize_observations are reusable, because the
observation statistics travel with the module (Algorithm checkpoint, its RLModule folder
alone, algo.get_module()), and a module that lost them is refused loudly."""

import json
import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.columns import OBS_KEY
from rllib_embed.embed_pg.evaluation import evaluate_per_task, observation_normalizer
from rllib_embed.embed_pg.module_checkpoint import MODULE_SUBDIR, load_observation_normalizer
from rllib_embed.embed_pg.plain_files import MODULE_FILE
from rllib_embed.transfer import SkillSpaceEnv, load_skills
from rllib_embed.transfer import skill_space_env as skill_space_env_module

POINT_GOALS = "rllib_embed/PointGoals-v0"
ENV_CONFIG = {"num_tasks": 4}


@pytest.fixture(scope="module")
def normalized_run(ray_session, tmp_path_factory):
    """PointGoals K=4 trained 20 iterations with normalize_observations=True, saved three ways."""
    root = tmp_path_factory.mktemp("normalized")
    algo = (EmbedPGConfig()
            .environment(POINT_GOALS, env_config=ENV_CONFIG)
            .env_runners(num_env_runners=0, rollout_fragment_length=25)
            .training(copies_per_task=1, normalize_observations=True, policy_hiddens=[32],
                      inference_hiddens=[32], value_hiddens=[32])
            .debugging(seed=0)).build_algo()
    try:
        for _ in range(20):
            algo.train()
        live = observation_normalizer(algo)
        algo_ckpt = algo.save_to_path(str(root / "algo"))
        module_only = str(root / "module_only")  # the RLModule folder alone, copied away from its checkpoint
        shutil.copytree(os.path.join(algo_ckpt, MODULE_SUBDIR), module_only)
        get_module_ckpt = str(root / "get_module")
        algo.get_module().save_to_path(get_module_ckpt)
    finally:
        algo.stop()
    return {"live": live, "paths": {"algorithm": algo_ckpt, "module_folder": module_only,
                                    "get_module": get_module_ckpt}}


def test_the_statistics_are_recorded_with_the_raw_env_space(normalized_run):
    live = normalized_run["live"]
    assert np.all(live.std > 0) and np.any(live.mean != 0)
    assert live.raw_space is not None and np.all(np.isinf(live.raw_space.high))  # PointGoals: Box(-inf, inf, (2,))


@pytest.mark.parametrize("saved_as", ["algorithm", "module_folder", "get_module"])
def test_every_saved_form_carries_the_statistics(normalized_run, saved_as):
    live = normalized_run["live"]
    loaded = load_observation_normalizer(normalized_run["paths"][saved_as])
    np.testing.assert_array_equal(loaded.mean, live.mean)
    np.testing.assert_array_equal(loaded.std, live.std)
    assert loaded.clip == 10.0 and loaded.raw_space == live.raw_space


@pytest.mark.parametrize("saved_as", ["algorithm", "module_folder"])
def test_skill_space_env_accepts_the_training_env_and_normalises_pi_s_input(normalized_run, saved_as, monkeypatch):
    live = normalized_run["live"]
    env = SkillSpaceEnv(normalized_run["paths"][saved_as], POINT_GOALS, ENV_CONFIG, hold_steps=3)
    seen = []  # what reaches the low-level policy, next to the raw observation it came from
    original = skill_space_env_module.low_level_action

    def spy(module, obs, z, **kwargs):
        normalised = kwargs["normalize_obs"](obs)
        seen.append((np.array(obs), normalised))
        return original(module, obs, z, **kwargs)

    monkeypatch.setattr(skill_space_env_module, "low_level_action", spy)
    env.reset(seed=0)
    for _ in range(4):
        env.step(env.action_space.sample())
    assert len(seen) == 12
    for raw, normalised in seen:
        expected = np.clip((raw - live.mean) / (live.std + 1e-8), -10, 10)
        np.testing.assert_allclose(normalised, expected, rtol=1e-5, atol=1e-6)
        assert not np.allclose(normalised, raw)


def test_evaluation_applies_the_module_s_statistics_without_being_told(normalized_run):
    module = load_skills(normalized_run["paths"]["module_folder"])
    kwargs = dict(episodes_per_task=2, skill="mean")
    by_default = evaluate_per_task(module, POINT_GOALS, ENV_CONFIG, **kwargs)
    explicit = evaluate_per_task(module, POINT_GOALS, ENV_CONFIG, normalize_obs=normalized_run["live"], **kwargs)
    raw = evaluate_per_task(module, POINT_GOALS, ENV_CONFIG, normalize_obs=lambda x: x, **kwargs)
    assert by_default == explicit and by_default != raw


def _strip_statistics(module_dir):
    """The statistics removed from both copies of the module's state: RLlib's pickle and the plain JSON."""
    path = os.path.join(module_dir, "module_state.pkl")
    with open(path, "rb") as f:
        state = pickle.load(f)
    state.pop("observation_normalizer")
    with open(path, "wb") as f:
        pickle.dump(state, f)
    path = os.path.join(module_dir, MODULE_FILE)
    with open(path) as f:
        plain = json.load(f)
    plain["state"].pop("observation_normalizer")
    with open(path, "w") as f:
        json.dump(plain, f)


def test_a_normalised_module_without_statistics_is_refused_loudly(normalized_run, tmp_path):
    stripped = str(tmp_path / "stripped")
    shutil.copytree(normalized_run["paths"]["module_folder"], stripped)
    _strip_statistics(stripped)
    message = r"trained with normalize_observations=True but holds no observation statistics"
    with pytest.raises(ValueError, match=message):
        load_observation_normalizer(stripped)
    with pytest.raises(ValueError, match=message):
        SkillSpaceEnv(stripped, POINT_GOALS, ENV_CONFIG)
    from ray.rllib.core.rl_module.rl_module import RLModule
    with pytest.raises(ValueError, match=message):
        evaluate_per_task(RLModule.from_checkpoint(stripped), POINT_GOALS, ENV_CONFIG, episodes_per_task=1)


def test_an_env_of_another_raw_space_is_still_refused(normalized_run):
    with pytest.raises(ValueError, match="observation space"):
        SkillSpaceEnv(normalized_run["paths"]["module_folder"], "rllib_embed/GridGoals-v0")
