"""EmbedPGTorchLearner.apply_gradients: RLlib's step where all gradients are finite (bitwise),
RLlib's nan/inf handling where one is not."""

import copy

import pytest
import torch

from ray.rllib.core.learner.torch.torch_learner import TorchLearner

from rllib_embed import EmbedPGConfig


@pytest.fixture(scope="module")
def learner(ray_session):
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(update="clipped").debugging(seed=5))
    algo = config.build_algo()
    algo.train()  # Adam has state
    yield algo.learner_group._learner
    algo.stop()


def _set_gradients(learner, poison=None):
    g = torch.Generator().manual_seed(0)
    for pid, p in learner._params.items():
        p.grad = torch.randn(p.shape, generator=g)
    if poison is not None:
        next(iter(learner._params.values())).grad.view(-1)[0] = poison
    return {pid: p.grad for pid, p in learner._params.items()}


def _params_after(learner, apply, poison=None):
    params = {pid: p.detach().clone() for pid, p in learner._params.items()}
    optimizers = [(o, copy.deepcopy(o.state_dict())) for _, o in learner._named_optimizers.items()]
    apply(learner, _set_gradients(learner, poison))
    after = {pid: p.detach().clone() for pid, p in learner._params.items()}
    with torch.no_grad():  # undo the step, for the next call
        for pid, p in learner._params.items():
            p.copy_(params[pid])
    for optimizer, state in optimizers:
        optimizer.load_state_dict(state)
    return after


def test_finite_gradients_step_exactly_as_rllibs_apply_gradients(learner):
    ours = _params_after(learner, type(learner).apply_gradients)
    rllibs = _params_after(learner, TorchLearner.apply_gradients)
    moved = 0
    for pid in ours:
        assert torch.equal(ours[pid], rllibs[pid])
        moved += not torch.equal(ours[pid], learner._params[pid].detach())
    assert moved == len(ours)


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_a_non_finite_gradient_is_zeroed_as_rllib_does(learner, poison):
    ours = _params_after(learner, type(learner).apply_gradients, poison)
    rllibs = _params_after(learner, TorchLearner.apply_gradients, poison)
    for pid in ours:
        assert torch.isfinite(ours[pid]).all()
        assert torch.equal(ours[pid], rllibs[pid])
