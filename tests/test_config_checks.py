"""Bad values are refused by validate() with one line naming the field and the allowed values:
EmbedPGConfig's numeric fields (RLlib's own included) and env_config."""

import json
import os
import re
from collections import Counter

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg.config_checks import FIELDS, Field, allowed, check_fields

POINT_GOALS = "rllib_embed/PointGoals-v0"
NAN, INF = float("nan"), float("inf")


def _config(env=POINT_GOALS, **env_config):
    return (EmbedPGConfig().environment(env, env_config={"num_tasks": 2, **env_config})
            .env_runners(num_env_runners=0))


def _refusal(settings_dict, env=POINT_GOALS) -> str:
    """The one-line ValueError validate() gives for `settings_dict` set as Tune / the rllib command do."""
    config = _config(env)
    with pytest.raises(ValueError) as info:
        config.update_from_dict(settings_dict)
        config.validate()
    message = str(info.value)
    assert "\n" not in message
    return message


# ---- the instances, and more of the same kind ---------------------------------------------

@pytest.mark.parametrize("name, value, words", [
    ("gamma", 1.5, "EmbedPGConfig.gamma must be a finite number in [0, 1]; got 1.5"),
    ("gamma", NAN, "EmbedPGConfig.gamma must be a finite number in [0, 1]; got nan"),
    ("gamma", -0.1, "EmbedPGConfig.gamma must be a finite number in [0, 1]; got -0.1"),
    ("lr", 0, "EmbedPGConfig.lr must be a finite number > 0, or a schedule"),
    ("lr", NAN, "EmbedPGConfig.lr must be a finite number > 0"),
    ("lr", INF, "got inf"),
    ("lr", [[0, 1e-3], [100, NAN]], "EmbedPGConfig.lr must be"),
    ("lr", [[5, 1e-3], [100, 1e-4]], "EmbedPGConfig.lr must be"),  # a schedule starts at timestep 0
    ("policy_lr", 0.0, "EmbedPGConfig.policy_lr must be a finite number > 0, or a schedule"),
    ("value_lr", -INF, "EmbedPGConfig.value_lr must be"),
    ("alpha1", NAN, "EmbedPGConfig.alpha1 must be a finite number >= 0; got nan"),
    ("alpha2", -1e-9, "EmbedPGConfig.alpha2 must be a finite number >= 0"),
    ("alpha3", INF, "EmbedPGConfig.alpha3 must be a finite number >= 0; got inf"),
    ("grad_clip", 0.0, "EmbedPGConfig.grad_clip must be a finite number > 0 or None; got 0.0"),
    ("grad_clip", NAN, "EmbedPGConfig.grad_clip must be"),
    ("vf_loss_coeff", -1.0, "EmbedPGConfig.vf_loss_coeff must be a finite number >= 0"),
    ("num_epochs", 0, "EmbedPGConfig.num_epochs must be an int >= 1 or None; got 0"),
    ("num_epochs", 2.0, "EmbedPGConfig.num_epochs must be an int >= 1 or None; got 2.0"),
    ("value_epochs", "3", "EmbedPGConfig.value_epochs must be an int >= 1; got '3'"),
    ("rollout_fragment_length", "auto", "EmbedPGConfig.rollout_fragment_length must be an int >= 1; got 'auto'"),
    ("latent_dim", True, "EmbedPGConfig.latent_dim must be an int >= 1 or None; got True"),
    ("metrics_num_episodes_for_smoothing", 0, "EmbedPGConfig.metrics_num_episodes_for_smoothing must be an int >= 1"),
    ("num_env_runners", -1, "EmbedPGConfig.num_env_runners must be an int >= 0; got -1"),
    ("seed", -1, "EmbedPGConfig.seed must be an int in [0, 4294967295] or None; got -1"),
    ("sample_timeout_s", NAN, "EmbedPGConfig.sample_timeout_s must be"),
])
def test_bad_numeric_fields_are_refused_naming_the_field(name, value, words):
    assert words in _refusal({name: value})


@pytest.mark.parametrize("env, env_config, words", [
    (POINT_GOALS, {"num_tasks": -1}, "PointGoals env_config: 'num_tasks' must be an int in [1, 1024], got -1"),
    (POINT_GOALS, {"num_tasks": "x"}, "PointGoals env_config: 'num_tasks' must be an int in [1, 1024], got 'x'"),
    (POINT_GOALS, {"num_tasks": NAN}, "'num_tasks' must be an int in [1, 1024], got nan"),
    (POINT_GOALS, {"episode_len": 0}, "PointGoals env_config: 'episode_len' must be an int >= 1, got 0"),
    (POINT_GOALS, {"max_step": NAN}, "'max_step' must be a finite number > 0.0, got nan"),
    (POINT_GOALS, {"reward": "dense "}, "'reward' must be one of 'dense', 'sparse'"),
    (POINT_GOALS, {"num_tasks": 2, "radius": -INF}, "'radius' must be a finite number > 0.0, got -inf"),
    ("rllib_embed/GridGoals-v0", {"size": "5"}, "GridGoals env_config: 'size' must be an int >= 3, got '5'"),
    ("rllib_embed/PointGoalSequence-v0", {"num_tasks": 9}, "'num_tasks' must be an int in [1, 4], got 9"),
])
def test_bad_env_config_values_are_refused_naming_the_key(env, env_config, words):
    message = _refusal({"env_config": env_config}, env=env)
    assert words in message and "num_learners" not in message


def test_num_tasks_must_match_the_envs_count():
    config = EmbedPGConfig().environment("rllib_embed/GridGoals-v0").env_runners(num_env_runners=0)
    config.update_from_dict({"num_tasks": 10**9})  # GridGoals has 4 tasks by default
    with pytest.raises(ValueError) as info:
        config.validate()
    message = str(info.value)
    assert message.startswith("EmbedPGConfig.num_tasks=1000000000 differs from the 4 tasks rllib_embed/GridGoals-v0 "
                              "has") and "allowed: None (the env's count) or 4" in message


@pytest.mark.parametrize("env, env_config, words", [
    (POINT_GOALS, {"num_tasks": 10**9}, "'num_tasks' must be an int in [1, 1024], got 1000000000"),
    ("rllib_embed/GridGoals-v0", {"num_tasks": 4, "size": 10**9}, None),  # a huge grid: its 4 corners, at once
    ("rllib_embed/PointGoalSequence-v0", {"circle_goals": 2**40}, "'circle_goals' must be an int in [2, 1024]"),
])
def test_huge_counts_are_refused_or_cheap_not_a_memory_exhaustion(env, env_config, words):
    config = EmbedPGConfig().environment(env, env_config=env_config).env_runners(num_env_runners=0)
    if words is None:
        config.validate()
        assert config.num_tasks == 4
    else:
        with pytest.raises(ValueError, match=re.escape(words)):
            config.validate()


def test_tune_builds_the_algorithm_from_a_dict_and_gets_the_same_refusal():
    """Tune hands a param_space dict to the trainable: `EmbedPG(config=dict)` refuses before any actor."""
    from rllib_embed import EmbedPG

    with pytest.raises(ValueError, match=re.escape("EmbedPGConfig.gamma must be a finite number in [0, 1]; got 1.5")):
        EmbedPG(config={"env": POINT_GOALS, "env_config": {"num_tasks": 2}, "num_env_runners": 0, "gamma": 1.5})
    words = "PointGoals env_config: 'num_tasks' must be an int in [1, 1024], got -1"
    with pytest.raises(ValueError, match=re.escape(words)):
        EmbedPG(config={"env": POINT_GOALS, "env_config": {"num_tasks": -1}, "num_env_runners": 0})


def test_env_config_must_be_a_dict():
    with pytest.raises(ValueError, match=r"^EmbedPGConfig.env_config must be a dict .*; got 'num_tasks=2'$"):
        EmbedPGConfig().environment(POINT_GOALS, env_config="num_tasks=2")


def test_a_user_env_num_tasks_is_checked_by_the_table():
    from ray.tune.registry import register_env

    from rllib_embed.envs import make_point_goals

    register_env("test_config_checks/own-env", lambda cfg: make_point_goals({"num_tasks": 2}))
    message = _refusal({"env_config": {"num_tasks": "two"}}, env="test_config_checks/own-env")
    assert message == "EmbedPGConfig.env_config.num_tasks must be an int >= 1; got 'two'"


def test_good_values_and_schedules_pass():
    config = _config()
    config.update_from_dict({"gamma": 1.0, "lr": [[0, 1e-3], [1000, 1e-4]], "policy_lr": 3e-4, "grad_clip": None,
                             "alpha1": 0.0, "seed": 0, "env_config": {"episode_len": 1, "reward": "sparse"}})
    config.validate()
    assert config.num_tasks == 2


def test_every_range_direction_refuses_nan():
    """`nan >= low` and `nan <= high` are both False: every kind and bound refuses NaN and infinities."""
    for field in [Field("a", "real", 0.0), Field("b", "real", 0.0, 1.0), Field("c", "real", 0.0, low_open=True),
                  Field("d", "lr", 0.0, low_open=True), Field("e", "real", None, 1.0), Field("f", "real")]:
        for bad in (NAN, INF, -INF, float("-nan")):
            holder = type("Holder", (), {field.name: bad})()
            with pytest.raises(ValueError, match=rf"^Holder\.{field.name} must be {re.escape(allowed(field))}"):
                check_fields(holder, (field,))


def test_rows_for_fields_the_config_lacks_are_skipped_and_every_row_of_the_table_is_live():
    check_fields(EmbedPGConfig(), (Field("a_field_no_config_has", "int", 1),))  # skipped, no error
    assert [f.name for f in FIELDS if not hasattr(EmbedPGConfig(), f.name)] == []


# ---- property test: random values and types for every checked field and env_config key ----------

# Our own errors: EmbedPGConfig's (config_checks, validate) and the env creators' (envs/multi_task.py).
OWN_ERROR = re.compile(r"^(EmbedPG\w*[ .]|[\w/-]+ env_config: |env_config: )")
OUTCOMES: Counter = Counter()  # how each random input ended (written out with RLLIB_EMBED_FUZZ_REPORT)
FIELD_NAMES = [f.name for f in FIELDS if hasattr(EmbedPGConfig(), f.name)]
ENV_KEYS = {
    POINT_GOALS: ["num_tasks", "radius", "episode_len", "max_step", "goal_tolerance", "start_noise", "goals",
                  "task_index", "reward", "flat_obs", "no_such_key"],
    "rllib_embed/GridGoals-v0": ["num_tasks", "size", "episode_len", "goals", "task_index"],
    "rllib_embed/PointGoalSequence-v0": ["num_tasks", "circle_goals", "radius", "goals", "episode_len", "max_step"],
}
NUMBERS = st.one_of(st.integers(-(2**64), 2**64), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 1, -1, 0.0, 1.0, 0.5, 1e-12, 1e12, NAN, INF, -INF]))
VALUES = st.one_of(NUMBERS, st.booleans(), st.none(), st.text(max_size=8),
                   st.lists(NUMBERS, max_size=3), st.lists(st.lists(NUMBERS, min_size=2, max_size=2), max_size=3),
                   st.dictionaries(st.text(max_size=3), NUMBERS, max_size=2))


@st.composite
def random_settings(draw):
    env = draw(st.sampled_from(sorted(ENV_KEYS)))
    fields = draw(st.dictionaries(st.sampled_from(FIELD_NAMES), VALUES, max_size=3))
    env_config = draw(st.dictionaries(st.sampled_from(ENV_KEYS[env]), VALUES, max_size=2))
    return env, fields, env_config


def _judge(env, fields, env_config, run):
    """Runs `run(config)`: passes on success or on our own one-line ValueError naming a given field."""
    config = EmbedPGConfig().environment(env).env_runners(num_env_runners=0)
    try:
        config.update_from_dict({**fields, "env_config": env_config})
        run(config)
    except ValueError as e:
        message = str(e)
        assert "\n" not in message and OWN_ERROR.match(message), message
        named = [name for name in [*fields, *env_config]
                 if re.search(rf"(?<![\w]){re.escape(str(name))}(?![\w])", message)]
        assert named or "env_config" in message, (fields, env_config, message)
        OUTCOMES[f"ValueError naming {named[0] if named else 'env_config'}"] += 1
        return
    OUTCOMES["accepted"] += 1


@settings(max_examples=int(os.environ.get("RLLIB_EMBED_FUZZ_EXAMPLES", 300)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(random_settings())
def test_validate_accepts_or_names_the_field(case):
    env, fields, env_config = case
    _judge(env, fields, env_config, lambda config: config.validate())


# Values a config may well hold: edges of each range, so that building and one step are tried.
EDGE_SETTINGS = st.fixed_dictionaries({}, optional={
    "gamma": st.sampled_from([0.0, 1.0, 0.5, NAN]), "alpha1": st.sampled_from([0.0, 1e3, -1.0]),
    "alpha2": st.sampled_from([0.0, 1e3]), "alpha3": st.sampled_from([0.0, 1e3]),
    "lr": st.sampled_from([1e-12, 10.0, [[0, 1e-3], [10, 1e-5]], 0.0]), "grad_clip": st.sampled_from([None, 1e-9]),
    "latent_dim": st.sampled_from([1, 3]), "history_len": st.sampled_from([1, 7]),
    "rollout_fragment_length": st.sampled_from([1, 3]), "value_epochs": st.sampled_from([1, 2]),
    "num_epochs": st.sampled_from([1, 2]), "copies_per_task": st.sampled_from([1, 2]),
    "vf_loss_coeff": st.sampled_from([0.0, 1e3]), "seed": st.sampled_from([None, 0, 2**32 - 1]),
})


@pytest.mark.usefixtures("ray_session")
@settings(max_examples=int(os.environ.get("RLLIB_EMBED_FUZZ_BUILDS", 6)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(EDGE_SETTINGS, st.fixed_dictionaries({}, optional={"episode_len": st.sampled_from([1, 2, 0]),
                                                          "reward": st.sampled_from(["dense", "sparse"]),
                                                          "start_noise": st.sampled_from([0.0, 1e6])}))
def test_build_algo_and_one_step_accept_or_name_the_field(fields, env_config):
    def build_and_train(config):
        config = config.training(policy_hiddens=[4], inference_hiddens=[4], value_hiddens=[4])
        algo = config.build_algo()
        try:
            algo.train()
        finally:
            algo.stop()

    _judge(POINT_GOALS, fields, {"num_tasks": 2, **env_config}, build_and_train)


def teardown_module(module):
    report = os.environ.get("RLLIB_EMBED_FUZZ_REPORT")
    if report:
        with open(report, "w") as f:
            json.dump({"total": sum(OUTCOMES.values()), **dict(OUTCOMES.most_common())}, f, indent=1)


@pytest.mark.parametrize("field, value, words", [
    ("grad_clip", -1, "grad_clip must be a finite number > 0 or None; got -1"),
    ("lr", -1, "lr must be a finite number > 0"),
    ("alpha1", -1, "alpha1 must be a finite number >= 0; got -1"),
    ("history_len", -1, "history_len must be an int >= 1; got -1"),
    ("alpha3", -1.0, "alpha3 must be a finite number >= 0; got -1.0"),
    ("train_batch_size_per_learner", -1, "train_batch_size_per_learner must not be -1: RLlib reads -1 as 'not set'"),
    ("evaluation_interval", -1, "evaluation_interval must not be -1: RLlib reads -1 as 'not set'"),
])
def test_build_algo_judges_minus_one_instead_of_rllib_swapping_in_the_default(field, value, words):
    """RLlib's get_state drops every field equal to -1 (its "not set" marker) before validate()
    runs, so build_algo() ran with the default in its place: now build_algo() and validate()
    refuse it in one line naming the field, before any work, by the table's range where the
    field has a row, else as the marker."""
    from rllib_embed import EmbedPGConfig
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0))
    setattr(config, field, value)
    for call in (config.validate, config.build_algo):
        with pytest.raises(ValueError, match=rf"EmbedPGConfig\.{words}") as e:
            call()
        assert "\n" not in str(e.value)


def test_minus_one_where_it_is_a_valid_value_reaches_the_algorithm(ray_session):
    """embedding_init_log_std=-1 (std 0.37) is in its range: RLlib's get_state used to drop it, so
    the clipped update started at its default -2 instead; RLlib's own deprecated fields stay at -1."""
    from rllib_embed import EmbedPGConfig
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0).training(update="clipped", embedding_init_log_std=-1))
    assert config.simple_optimizer == -1  # one of RLlib's deprecated fields
    algo = config.build_algo()
    try:
        assert algo.config.embedding_init_log_std == -1
        _, log_std = algo.get_module().embedding_params(torch.eye(2))
        torch.testing.assert_close(log_std, torch.full_like(log_std, -1.0))
    finally:
        algo.stop()
