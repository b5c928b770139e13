import os
import tempfile

import pytest
import torch

os.environ.setdefault("RAY_DEDUP_LOGS", "0")
# One torch thread per test process (and OpenMP thread for the processes it starts), as Ray
# gives each of its workers: the networks are small, and with one thread per core two
# threads wait on each other whenever the machine is busy (the suite took several times
# longer on a loaded 2-core machine).
os.environ.setdefault("OMP_NUM_THREADS", "1")
torch.set_num_threads(1)
# `rllib train` records the experiment folders it starts (rllib_embed/cli/own_runs.py): the
# tests' record is their own, never the user's ~/.local/state.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="rllib_embed_tests_state_")


SLOW_FIXTURES = ("trained_skills",)  # trains 250 iterations through Tune before its first test


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains, runs Tune or starts processes for several seconds or more; "
                                       "`pytest -m 'not slow'` is the quick loop, .ci/run runs everything")
    config.addinivalue_line("markers", "cluster: starts a multi-node Ray cluster on this machine")


def pytest_collection_modifyitems(config, items):
    """Tests that use a slow fixture are slow themselves: the quick loop would pay its setup."""
    for item in items:
        if any(name in getattr(item, "fixturenames", ()) for name in SLOW_FIXTURES):
            item.add_marker(pytest.mark.slow)


def start_local_ray():
    """The tests' local Ray instance: 2 CPUs, like CI."""
    import ray

    # address="local": always a fresh instance, never another Ray cluster running on the machine.
    ray.init(address="local", num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)


@pytest.fixture(scope="module")
def ray_session():
    """A running local Ray instance, started once and kept for the following tests.

    Tests that need a Ray cluster of another shape (tests/test_cluster.py) shut this
    one down; the next test that asks for it starts it again.
    """
    import ray

    if not ray.is_initialized():
        start_local_ray()
    yield ray


@pytest.fixture(scope="session", autouse=True)
def _shutdown_ray_at_the_end():
    yield
    import ray

    if ray.is_initialized():
        ray.shutdown()


# --- transfer/, viz/: one small trained skill space for the whole session ------------
SKILLS_ITERATIONS = 250  # PointGoals K=4 is solved (every task, mean skill) from ~200 (docs/learning.md)


@pytest.fixture(scope="session")
def trained_skills(tmp_path_factory):
    """EmbedPG trained once through Tune on PointGoals K=4 (seed 0): (checkpoint path, trial folder).

    The trial folder holds Tune's result.json / progress.csv, the checkpoint sits inside it.
    Session-scoped, so it starts the local Ray instance itself where none runs; tests that
    go on to use Ray ask for ``ray_session`` as well.
    """
    import ray
    from ray import tune

    from rllib_embed import EmbedPGConfig

    if not ray.is_initialized():
        start_local_ray()
    config = (EmbedPGConfig()
              .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 4})
              .env_runners(num_env_runners=0, rollout_fragment_length=25)
              .training(copies_per_task=2)
              .debugging(seed=0))
    tuner = tune.Tuner("EmbedPG", param_space=config, run_config=tune.RunConfig(
        storage_path=str(tmp_path_factory.mktemp("skills")), name="pointgoals",
        stop={"training_iteration": SKILLS_ITERATIONS}, verbose=0,
        checkpoint_config=tune.CheckpointConfig(checkpoint_at_end=True)))
    result = tuner.fit()[0]
    assert result.error is None, result.error
    return result.checkpoint.path, result.path


# --- checkpoint readers: one small EmbedPG checkpoint per test module ----------------
@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory, ray_session):
    """One EmbedPG checkpoint (PointGoals K=2, 10-step episodes, 1 iteration, normalize_observations)
    written by algo.save_to_path: the path of its folder."""
    from rllib_embed import EmbedPGConfig

    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2, "episode_len": 10})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(normalize_observations=True).debugging(seed=0))
    algo = config.build_algo()
    algo.train()
    path = tmp_path_factory.mktemp("saved") / "checkpoint"
    algo.save_to_path(str(path))
    algo.stop()
    return path
