import os

import pytest

os.environ.setdefault("RAY_DEDUP_LOGS", "0")


def start_local_ray():
    """The tests' local Ray instance: 2 CPUs, like CI."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)


@pytest.fixture
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
