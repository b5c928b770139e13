"""EmbedPGTorchLearner's gradient steps against RLlib's and torch's defaults, bit for bit:
apply_gradients (RLlib's step where all gradients are finite, RLlib's nan/inf handling where
one is not), the per-network clipping in one multi-tensor norm, the merged Adam step, and
forward_train's training mode."""

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


@pytest.mark.slow
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


def test_the_learners_adam_steps_as_torchs_default_per_tensor_adam(learner):
    """The optimizers run torch's multi-tensor Adam, whose arithmetic on CPU is the default
    per-tensor loop's bit for bit, so trajectories (and the measured figures) do not change."""
    for name, optimizer in learner._named_optimizers.items():
        assert optimizer.defaults["foreach"], name
        params = [p for group in optimizer.param_groups for p in group["params"]]
        reference_params = [p.detach().clone().requires_grad_() for p in params]
        reference = torch.optim.Adam(reference_params, foreach=False)
        reference.load_state_dict(copy.deepcopy(optimizer.state_dict()))
        reference.param_groups[0]["foreach"] = False
        saved = ([p.detach().clone() for p in params], copy.deepcopy(optimizer.state_dict()))
        g = torch.Generator().manual_seed(1)
        for _ in range(3):
            for p, q in zip(params, reference_params):
                p.grad = torch.randn(p.shape, generator=g)
                q.grad = p.grad.clone()
            optimizer.step()
            reference.step()
        for p, q in zip(params, reference_params):
            assert torch.equal(p.detach(), q.detach()), name
        with torch.no_grad():  # undo, for the other tests
            for p, before in zip(params, saved[0]):
                p.copy_(before)
        optimizer.load_state_dict(saved[1])


@pytest.mark.parametrize("poison", [None, float("nan"), float("inf")])
@pytest.mark.parametrize("grad_clip", [0.5, 1e6])
def test_gradient_clipping_is_rllibs_bit_for_bit(poison, grad_clip):
    from ray.rllib.utils.torch_utils import clip_gradients
    from rllib_embed.embed_pg.torch.embed_pg_torch_learner import clip_gradients_by_global_norm_foreach
    g = torch.Generator().manual_seed(2)
    grads = {i: torch.randn(shape, generator=g) * 3 for i, shape in enumerate([(64, 20), (64,), (4, 64), (4,)])}
    if poison is not None:
        grads[1][3] = poison
    ours, rllibs = {k: v.clone() for k, v in grads.items()}, {k: v.clone() for k, v in grads.items()}
    norm = clip_gradients_by_global_norm_foreach(ours, grad_clip=grad_clip, grad_clip_by="global_norm")
    norm_rllib = clip_gradients(rllibs, grad_clip=grad_clip, grad_clip_by="global_norm")
    assert torch.equal(norm, norm_rllib)
    for k in grads:
        assert torch.equal(ours[k].nan_to_num(), rllibs[k].nan_to_num())
        assert torch.equal(ours[k].isnan(), rllibs[k].isnan())


@pytest.mark.parametrize("update", ["literal", "clipped"])
def test_an_lr_schedule_trains_with_the_per_tensor_adam(ray_session, update):
    """RLlib sets a scheduled lr as a tensor, which torch's multi-tensor Adam refuses: with a
    schedule the optimizers take the default per-tensor loop (the same arithmetic)."""
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(update=update, lr=[[0, 1e-3], [10, 1e-5]]).debugging(seed=5))
    algo = config.build_algo()
    try:
        algo.train()
        optimizers = algo.learner_group._learner._named_optimizers.values()
        assert optimizers and not any(o.defaults["foreach"] for o in optimizers)
    finally:
        algo.stop()


def _clip_and_apply(learner, grads):
    learner.apply_gradients(learner.postprocess_gradients(grads))


def _rllibs_clip_and_apply(learner, grads):
    from ray.rllib.core.learner.learner import Learner
    for module_id in learner.module.keys():
        Learner.postprocess_gradients_for_module(
            learner, module_id=module_id, config=learner.config.get_config_for_module(module_id),
            module_gradients_dict=grads)
    TorchLearner.apply_gradients(learner, grads)


@pytest.mark.parametrize("poison", [None, float("nan")])
def test_clipping_and_stepping_all_networks_at_once_is_rllibs_bit_for_bit(learner, poison):
    """postprocess_gradients (each network clipped by its own norm, in one multi-tensor norm)
    and apply_gradients (the finiteness from the clipping's norms, one Adam call) against
    RLlib's per-optimizer clipping and its apply_gradients."""
    ours = _params_after(learner, _clip_and_apply, poison)
    rllibs = _params_after(learner, _rllibs_clip_and_apply, poison)
    for pid in ours:
        assert torch.isfinite(ours[pid]).all()
        assert torch.equal(ours[pid], rllibs[pid])
    assert sum(not torch.equal(ours[pid], learner._params[pid].detach()) for pid in ours) == len(ours)


@pytest.mark.parametrize("poison", [None, float("nan"), float("inf")])
def test_clipping_networks_together_equals_clipping_each_alone(poison):
    from ray.rllib.utils.torch_utils import clip_gradients
    from rllib_embed.embed_pg.torch.embed_pg_torch_learner import clip_networks_by_global_norm_foreach
    g = torch.Generator().manual_seed(3)
    networks = [[torch.randn(s, generator=g) * scale for s in shapes] for scale, shapes in
                ((3.0, [(64, 20), (64,)]), (0.01, [(4, 64), (4,)]), (1.0, []), (50.0, [(8, 8)]))]
    if poison is not None:
        networks[1][0][0, 0] = poison
    ours = [[t.clone() for t in net] for net in networks]
    norms, finite = clip_networks_by_global_norm_foreach(ours, grad_clip=1.0)
    assert bool(finite) == (poison is None)
    for net, mine, norm in zip(networks, ours, norms):
        if not net:
            assert float(norm) == 0.0
            continue
        alone = {i: t.clone() for i, t in enumerate(net)}
        assert torch.equal(norm, clip_gradients(alone, grad_clip=1.0, grad_clip_by="global_norm"))
        for i, t in enumerate(mine):
            assert torch.equal(t.nan_to_num(), alone[i].nan_to_num())


def _adams(lrs, seed=0):
    g = torch.Generator().manual_seed(seed)
    params = [[torch.randn(s, generator=g).requires_grad_() for s in ((16, 8), (16,))] for _ in lrs]
    return params, [torch.optim.Adam(p, lr=lr, foreach=True) for p, lr in zip(params, lrs)]


def test_one_adam_call_for_several_optimizers_is_their_own_steps_bit_for_bit():
    from rllib_embed.embed_pg.torch import adam_steps
    assert adam_steps.MERGEABLE_TORCH  # the torch this project installs: the merged path runs
    lrs = [1e-3, 1e-3, 3e-4, 1e-3]
    merged_params, merged = _adams(lrs)
    own_params, own = _adams(lrs)
    hooked = []
    merged[3].register_step_post_hook(lambda *a: hooked.append(1))  # hooks: its own step()
    g = torch.Generator().manual_seed(1)
    for _ in range(4):
        for a, b in zip(merged_params, own_params):
            for p, q in zip(a, b):
                p.grad = torch.randn(p.shape, generator=g)
                q.grad = p.grad.clone()
        adam_steps.step_optimizers(merged)
        for optimizer in own:
            optimizer.step()
    assert hooked == [1, 1, 1, 1]
    for a, b in zip(merged_params, own_params):
        for p, q in zip(a, b):
            assert torch.equal(p, q)
    for m, o in zip(merged, own):
        assert torch.equal(next(iter(m.state.values()))["step"], next(iter(o.state.values()))["step"])


def test_forward_train_sets_training_mode_where_a_submodule_is_not_in_it(learner):
    module = learner.module["default_policy"].unwrapped()
    module.value_net.eval()
    batch = {}
    try:
        module.forward_train(batch)
    except KeyError:  # an empty batch: the mode is set before the networks run
        pass
    assert all(m.training for m in module.modules())


@pytest.mark.parametrize("update", ["literal", "clipped"])
def test_each_networks_gradient_norm_is_reported_once_per_update(ray_session, update):
    """`gradients_<net>_global_norm` (logged with the terms after the update's last step, not at
    every minibatch) reaches the results for all four networks."""
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(update=update).debugging(seed=5))
    algo = config.build_algo()
    try:
        stats = algo.train()["learners"]["default_policy"]
    finally:
        algo.stop()
    for net in ("policy", "embedding", "inference", "value"):
        norm = stats[f"gradients_{net}_global_norm"]
        assert 0.0 < float(norm) < float("inf"), (net, norm)


def _quadratic_loss(learner, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {"default_policy": sum((torch.randn(p.shape, generator=g) * p * p).sum()
                                  for p in learner._params.values())}


def test_compute_gradients_leaves_the_gradients_rllibs_would(learner):
    """Stale gradients cleared and the loss's gradients left, as TorchLearner.compute_gradients
    (each optimizer's zero_grad(set_to_none=True), then backward) leaves them, bit for bit."""
    results = []
    for compute in (learner.compute_gradients, lambda loss: TorchLearner.compute_gradients(learner, loss)):
        for p in learner._params.values():
            p.grad = torch.full_like(p, 7.0)  # stale: must not be added to
        grads = compute(_quadratic_loss(learner))
        results.append({pid: g.clone() for pid, g in grads.items()})
    ours, rllibs = results
    assert ours.keys() == rllibs.keys() == learner._params.keys()
    for pid in ours:
        assert torch.equal(ours[pid], rllibs[pid])


def test_steps_trained_are_rllibs_sums_logged_once_per_update(ray_session):
    """RLlib logs its step counts after every minibatch; the learner logs their sums once per
    update: module steps trained = epochs x batch rows, env steps trained = minibatches x batch
    rows (RLlib's minibatch iterator gives each minibatch the whole batch's env steps, for PPO
    too), the mean minibatch size, the lifetime counts."""
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(update="clipped", num_epochs=3, minibatch_size=10).debugging(seed=5))
    algo = config.build_algo()
    try:
        for n in (1, 2):
            result = algo.train()
            rows = result["env_runners"]["num_env_steps_sampled"]
            assert rows == 20
            stats, all_modules = result["learners"]["default_policy"], result["learners"]["__all_modules__"]
            assert stats["num_module_steps_trained"] == all_modules["num_module_steps_trained"] == 3 * rows
            assert all_modules["num_env_steps_trained"] == 6 * rows  # 3 epochs x 2 minibatches
            assert all_modules["num_env_steps_trained_lifetime"] == 6 * rows * n
            assert stats["module_train_batch_size_mean"] == pytest.approx(10)
            assert stats["weights_seq_no"] == n
    finally:
        algo.stop()
