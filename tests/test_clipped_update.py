"""update="clipped" and advantages="gae": the trust-region update and its bootstrapped advantages.

- At the first minibatch (every ratio 1) the clipped surrogate's gradient equals the literal
  score-function gradient, term by term, for both estimators.
- GAE with lambda = 1 and no bootstrap is the literal reward-to-go; the bootstrap value enters
  at cuts and time-limit truncations and never after a termination (checked against RLlib's
  own `compute_value_targets` on hand-built episodes).
- Any set of rows (PPO's shuffled minibatches) gives an unbiased estimate of the objective:
  a segment's terms are spread over its rows; the KL early stop ends a batch's epochs.
- The adaptive KL penalty (kl_coeff): no gradient at the first minibatch, PPO's beta updates,
  and beta in the learner's checkpointed state.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import gymnasium as gym
from ray.rllib.core.columns import Columns
from ray.rllib.env.single_agent_episode import SingleAgentEpisode
from ray.rllib.utils.postprocessing.value_predictions import compute_value_targets

from rllib_embed import EmbedPGConfig
from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.connectors.augmented_returns import _values_and_next_values
from rllib_embed.embed_pg.connectors.skill_windows import AddSkillWindowsAndSegments
from rllib_embed.embed_pg.returns import gae_advantages, segment_returns, standardize
from rllib_embed.embed_pg.torch.embed_pg_torch_learner import surrogate_terms
from tests.helpers import make_module, sample_batch, use_estimator

GAMMA, A1, A2, A3 = 0.9, 0.3, 0.7, 0.2
I = 3


def _batch(module):
    torch.manual_seed(1)
    batch = sample_batch(module, tasks=[0] * I + [1] * I, obs=torch.randn(2 * I, 2),
                         windows=torch.randn(2 * I, 2, 2), steps=list(range(I)) * 2, seed=3)
    batch[C.POLICY_WEIGHT] = torch.tensor([0.7, -0.2, 1.1, -1.5, 0.4, 0.3])
    batch[C.EMBEDDING_WEIGHT] = torch.tensor([2.5, 0.0, 0.0, -1.5, 0.0, 0.0])
    return batch


def _term_gradients(module, batch, estimator, clip_param, alphas=(A1, A2, A3), kl_coeff=0.0, values=None):
    use_estimator(module, estimator)
    terms = surrogate_terms(module, batch, module.forward_train(batch), estimator=estimator, gamma=GAMMA,
                            alpha1=alphas[0], alpha2=alphas[1], alpha3=alphas[2], normalizer=2,
                            clip_param=clip_param, kl_coeff=kl_coeff)
    if values is not None:
        values.update({name: value.detach() for name, value in terms.items()})
    params = list(module.parameters())
    out = {}
    for name, value in terms.items():
        grads = torch.autograd.grad(value, params, allow_unused=True, retain_graph=True)
        out[name] = torch.cat([(g if g is not None else torch.zeros_like(p)).reshape(-1)
                               for g, p in zip(grads, params)])
    return out


@pytest.mark.parametrize("estimator", ["seed", "unbiased", "score"])
def test_first_minibatch_gradient_equals_the_literal_gradient_term_by_term(estimator):
    module = make_module(num_tasks=2, history_len=2)
    batch = _batch(module)
    literal = _term_gradients(module, batch, estimator, clip_param=None)
    clipped = _term_gradients(module, batch, estimator, clip_param=0.2)
    assert set(literal) == set(clipped)
    for name in literal:
        torch.testing.assert_close(clipped[name], literal[name], rtol=1e-5, atol=1e-6, msg=name)
    assert literal["policy_score_term"].norm() > 1e-3
    if estimator in ("seed", "score"):
        assert literal["embedding_score_term"].norm() > 1e-3


@pytest.mark.parametrize("estimator", ["seed", "unbiased", "score"])
def test_standardised_advantages_rescale_the_whole_objective(estimator):
    """Standardising the advantages (one group) with the pathwise terms scaled by 1/std gives the
    gradient of the unstandardised objective, advantages centred, divided by std: the alphas keep
    their weight relative to the reward, and the pathwise terms do get a nonzero gradient."""
    module = make_module(num_tasks=2, history_len=2)
    batch = _batch(module)
    batch[C.EMBEDDING_WEIGHT] = torch.zeros(2 * I)  # standardised on its own (segment returns)
    raw = batch[C.POLICY_WEIGHT].clone()
    standardised, inv_std = standardize(raw, torch.zeros(2 * I, dtype=torch.long))
    batch[C.POLICY_WEIGHT] = raw - raw.mean()
    unscaled = _term_gradients(module, batch, estimator, clip_param=None)
    batch[C.POLICY_WEIGHT], batch[C.PATHWISE_SCALE] = standardised, inv_std
    scaled = _term_gradients(module, batch, estimator, clip_param=0.2)
    torch.testing.assert_close(scaled["surrogate"], unscaled["surrogate"] * inv_std[0], rtol=1e-5, atol=1e-6)
    assert unscaled["policy_entropy_term"].norm() > 1e-3 and unscaled["inference_term"].norm() > 1e-3
    # alphas at 0: the pathwise terms vanish, and the scaled surrogate is the score term alone
    no_bonus = _term_gradients(module, batch, estimator, clip_param=0.2, alphas=(0.0, 0.0, 0.0))
    assert (scaled["surrogate"] - no_bonus["surrogate"]).norm() > 1e-4


@pytest.mark.parametrize("clip_param", [None, 0.2])
def test_segment_terms_spread_over_their_rows_give_the_same_objective(clip_param):
    """log p(z|t) and alpha1 H[p] once per segment (the whole share on its first row) or spread
    1/L over its L rows: the same surrogate and gradient on the whole batch. Spread, a
    minibatch of any rows carries the segment terms of every segment it touches, and the
    minibatches of a partition of the rows sum back to the batch's objective."""
    module = make_module(num_tasks=2, history_len=2)
    batch = _batch(module)
    batch[C.EMBEDDING_WEIGHT] = torch.tensor([2.5, 2.5, 2.5, -1.5, -1.5, -1.5])  # each row: its segment's
    first_values, spread_values = {}, {}
    first = _term_gradients(module, {**batch, C.SEGMENT_SHARE: (batch[C.STEP_IN_SEGMENT] == 0).float()},
                            "seed", clip_param, values=first_values)
    spread = _term_gradients(module, {**batch, C.SEGMENT_SHARE: torch.full((2 * I,), 1.0 / I)},
                             "seed", clip_param, values=spread_values)
    for name in first:
        torch.testing.assert_close(spread[name], first[name], rtol=1e-5, atol=1e-6, msg=name)
        torch.testing.assert_close(spread_values[name], first_values[name], rtol=1e-5, atol=1e-6, msg=name)
    assert first["embedding_score_term"].norm() > 1e-3 and first["embedding_entropy_term"].norm() > 1e-4
    # Rows {0, 4} and the other four: each minibatch's sum (normaliser 2 segments here) adds up.
    parts = {}
    for rows in ([0, 4], [1, 2, 3, 5]):
        sub = {k: (v[rows] if isinstance(v, torch.Tensor) and v.shape[:1] == (2 * I,) else
                   {kk: vv[rows] for kk, vv in v.items()} if isinstance(v, dict) else v) for k, v in batch.items()}
        sub[C.SEGMENT_SHARE] = torch.full((len(rows),), 1.0 / I)
        parts[tuple(rows)] = {}
        _term_gradients(module, sub, "seed", clip_param, values=parts[tuple(rows)])
        assert parts[tuple(rows)]["embedding_score_term"].abs() > 0  # both minibatches see log p(z|t)
    for name in first_values:
        torch.testing.assert_close(sum(p[name] for p in parts.values()), spread_values[name], rtol=1e-5, atol=1e-6)


def test_clipped_term_stops_the_gradient_outside_the_trust_region():
    """Once pi has moved past 1 + eps on a row with a positive advantage, that row adds no gradient."""
    module = make_module(num_tasks=2, history_len=2)
    batch = _batch(module)
    batch[C.POLICY_WEIGHT] = torch.ones(2 * I)
    batch[Columns.ACTION_LOGP] = batch[Columns.ACTION_LOGP] - 1.0  # every ratio e > 1.2
    g = _term_gradients(module, batch, "unbiased", clip_param=0.2)["policy_score_term"]
    assert g.abs().max() == 0
    batch[C.POLICY_WEIGHT] = -torch.ones(2 * I)  # a negative advantage keeps pulling the ratio down
    g = _term_gradients(module, batch, "unbiased", clip_param=0.2)["policy_score_term"]
    assert g.abs().max() > 1e-4


def test_per_task_standardisation_keeps_each_tasks_signal():
    """A task paying 100x the other's rewards would leave the other's advantages near 0 in a
    whole-batch standardisation; within each task both get mean 0 and std 1."""
    x = torch.tensor([100.0, -100.0, 300.0, 1.0, -1.0, 3.0], dtype=torch.float64)
    task = torch.tensor([0, 0, 0, 1, 1, 1])
    whole, _ = standardize(x, torch.zeros_like(task))
    assert whole[3:].max() - whole[3:].min() < 0.05  # the small task's differences are all but gone
    per_task, inv_std = standardize(x, task)
    for k in (0, 1):  # each row carries 1 / std of its own task's advantages
        torch.testing.assert_close(inv_std[task == k], 1.0 / x[task == k].std(unbiased=False).expand(3))
    for k in (0, 1):
        torch.testing.assert_close(per_task[task == k].mean(), torch.tensor(0.0, dtype=torch.float64))
        torch.testing.assert_close(per_task[task == k].std(unbiased=False), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(per_task[:3], per_task[3:])  # same shape of signal in both tasks


def test_gae_with_lambda_one_and_no_bootstrap_is_the_reward_to_go():
    r_hat = torch.tensor([1.0, -2.0, 3.0, 0.5, 4.0, -1.0, 2.0])
    steps = torch.tensor([0, 1, 2, 0, 1, 0, 1])
    seg = torch.tensor([0, 0, 0, 1, 1, 2, 2])
    zeros = torch.zeros(7)
    _, _, G = segment_returns(r_hat, steps, seg, 0.9)
    A, targets = gae_advantages(r_hat, zeros, zeros, zeros, steps, seg, gamma=0.9, lambda_=1.0)
    torch.testing.assert_close(A, G)
    torch.testing.assert_close(targets, G)


def _episode(rewards, terminated=False, truncated=False, start_obs=0.0):
    """A hand-built episode chunk; observation t is [start_obs + t]."""
    n = len(rewards)
    space = gym.spaces.Dict({"obs": gym.spaces.Box(-100, 100, (1,), np.float32),
                             "task": gym.spaces.Box(0, 1, (1,), np.float32)})
    obs = [{"obs": np.array([start_obs + t], np.float32), "task": np.ones(1, np.float32)} for t in range(n + 1)]
    return SingleAgentEpisode(observations=obs, actions=[np.zeros(1, np.float32)] * n, rewards=list(rewards),
                              terminated=terminated, truncated=truncated, observation_space=space,
                              action_space=gym.spaces.Box(-1, 1, (1,), np.float32), len_lookback_buffer=0).to_numpy()


@pytest.mark.parametrize("lambda_", [0.0, 0.5, 0.95, 1.0])
def test_bootstrap_at_cuts_and_truncations_not_at_terminations(lambda_):
    # Three segments: cut by the sample's end, truncated by a time limit, terminated.
    episodes = [_episode([1.0, 2.0, 3.0]), _episode([0.5, -1.0], truncated=True, start_obs=10),
                _episode([4.0, 1.0, -2.0], terminated=True, start_obs=20)]
    batch = AddSkillWindowsAndSegments(history_len=1, rollout_fragment_length=3, bootstrap=True)(
        rl_module=None, batch={}, episodes=episodes)
    cols = {k: torch.as_tensor(np.concatenate([np.asarray(v).reshape(-1, *np.shape(v)[2:])
                                               for v in batch[k].values()]))
            for k in (C.NEXT_OBS, C.SEGMENT_ID, C.STEP_IN_SEGMENT, C.TIME_LEFT)}
    assert torch.equal(cols[C.TIME_LEFT], torch.ones(8))  # bootstrapped returns are not cut short
    obs = torch.tensor([0.0, 1, 2, 10, 11, 20, 21, 22])
    torch.testing.assert_close(cols[C.NEXT_OBS].squeeze(-1), obs + 1)  # s_{i+1}; at the last rows, past the cut

    def V(x):  # any value function of the observation
        return 0.3 * x - 1.0

    rewards = torch.tensor([1.0, 2.0, 3.0, 0.5, -1.0, 4.0, 1.0, -2.0])
    terminated = torch.tensor([0, 0, 0, 0, 0, 0, 0, 1.0])
    A, targets = gae_advantages(rewards, V(obs), V(cols[C.NEXT_OBS].squeeze(-1)), terminated,
                                cols[C.STEP_IN_SEGMENT], cols[C.SEGMENT_ID], GAMMA, lambda_)
    # RLlib's own GAE (`compute_value_targets`): each chunk's last real step is marked as
    # ending it (truncated, so nothing propagates across) and, after the termination, as
    # terminated; one extra row per chunk carries the bootstrap value V(s_n) it reads.
    values, rews, terms, truncs = [], [], [], []
    for rows, last_obs, term in ((slice(0, 3), 3.0, False), (slice(3, 5), 12.0, False), (slice(5, 8), 23.0, True)):
        n = rows.stop - rows.start
        values += V(obs[rows]).tolist() + [V(torch.tensor(last_obs)).item()]
        rews += rewards[rows].tolist() + [0.0]
        terms += [0.0] * (n - 1) + [1.0 if term else 0.0] + [0.0]
        truncs += [0.0] * (n - 1) + [1.0, 1.0]
    expected = compute_value_targets(np.array(values, np.float32), np.array(rews, np.float32),
                                     np.array(terms, np.float32), np.array(truncs, np.float32), GAMMA, lambda_)
    keep = np.array([1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0], bool)  # drop the extra timesteps
    np.testing.assert_allclose(targets.numpy(), expected[keep], rtol=1e-5, atol=1e-5)
    # By hand at the chunk ends: the bootstrap enters at the cut and the truncation only.
    assert abs(A[2].item() - (3.0 + GAMMA * V(3.0) - V(2.0))) < 1e-6
    assert abs(A[4].item() - (-1.0 + GAMMA * V(12.0) - V(11.0))) < 1e-6
    assert abs(A[7].item() - (-2.0 - V(22.0))) < 1e-6


def _config(**training):
    return (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
            .env_runners(num_env_runners=0, rollout_fragment_length=10).training(**training))


@pytest.mark.parametrize("field, value, words", [
    ("update", "ppo", r"update must be one of \['literal', 'clipped'\]"),
    ("advantages", "td", r"advantages must be one of \[None, 'returns', 'gae'\]"),
    ("lambda_", 1.5, r"lambda_ must be a finite number in \[0, 1\]; got 1.5"),
    ("lambda_", -0.1, r"lambda_ must be a finite number in \[0, 1\]"),
    ("lambda_", float("nan"), r"lambda_ must be a finite number in \[0, 1\]; got nan"),
    ("clip_param", 0.0, r"clip_param must be a finite number > 0; got 0.0"),
    ("clip_param", float("inf"), r"clip_param must be a finite number > 0"),
    ("target_kl", -1.0, r"target_kl must be a finite number > 0 or None"),
    ("kl_coeff", -0.2, r"kl_coeff must be a finite number >= 0; got -0.2"),
    ("kl_target", 0.0, r"kl_target must be a finite number > 0; got 0.0"),
    ("minibatch_size", 2.5, r"minibatch_size must be an int >= 1 or None"),
    ("normalize_advantages", "yes", r"normalize_advantages must be one of \[None, False, True, 'per_task'\]"),
    ("normalize_advantages", 1, r"normalize_advantages must be one of \[None, False, True, 'per_task'\]"),
])
def test_bad_values_of_the_update_fields_name_the_field(field, value, words):
    with pytest.raises(ValueError, match=words):
        _config(**{"update": "clipped", field: value}).validate()


def test_minibatch_size_belongs_to_the_clipped_update_and_may_split_segments():
    with pytest.raises(ValueError, match=r"minibatch_size must be None with update='literal'"):
        _config(minibatch_size=20).validate()
    with pytest.raises(ValueError, match=r"kl_coeff must be 0 with update='literal'"):
        _config(kl_coeff=0.2).validate()
    with pytest.raises(ValueError, match=r"advantages='gae' needs baseline='value'"):
        _config(update="clipped", baseline=None).validate()
    _config(update="clipped", minibatch_size=3, num_epochs=4).validate()  # fewer rows than I = 10
    with pytest.raises(ValueError, match=r"minibatch_size must be None or an int <= the batch's K\*D\*I = "
                                         r"2\*2\*10 = 40 rows; got 41"):
        _config(update="clipped", minibatch_size=41, copies_per_task=2).validate()


def test_defaults_follow_the_update():
    literal, clipped = _config(), _config(update="clipped")
    assert literal.resolved_advantages == "returns" and not literal.resolved_normalize_advantages
    assert clipped.resolved_advantages == "gae" and clipped.resolved_normalize_advantages == "per_task"
    assert _config(update="clipped", advantages="returns", normalize_advantages=False).resolved_advantages == "returns"


def test_clipped_update_steps_every_minibatch_and_the_kl_early_stop_ends_the_epochs(ray_session):
    """40 rows (4 envs x I=10) in minibatches of 8 rows: 5 steps an epoch, 15 in 3 epochs;
    with a KL stop at 1e-12 the first step (ratio 1, KL 0) and the second (KL > 1e-12) are
    taken and every later minibatch leaves the weights alone (each Adam counts its steps)."""
    steps = {}
    for target_kl in (None, 1e-12):
        algo = _config(update="clipped", num_epochs=3, minibatch_size=8, target_kl=target_kl,
                       copies_per_task=2).debugging(seed=0).build_algo()
        try:
            result = algo.train()
            learner = algo.learner_group._learner
            steps[target_kl] = {net: {int(state["step"]) for state in learner.get_optimizer(
                "default_policy", net).state.values()} for net in ("policy", "embedding", "inference", "value")}
            stats = result["learners"]["default_policy"]
            assert {"policy_kl", "policy_clip_fraction", "embedding_kl", "embedding_clip_fraction"} <= set(stats)
        finally:
            algo.stop()
    assert steps[None] == {net: {15} for net in ("policy", "embedding", "inference", "value")}
    assert steps[1e-12] == {net: {2} for net in ("policy", "embedding", "inference", "value")}


def test_one_value_pass_gives_each_rows_value_and_its_successors():
    """V(s_i, z) and V(s_{i+1}, z) from one pass (the next row's value inside a segment, the
    bootstrap state's at a segment's last row) match separate passes over s and s_{i+1}."""
    module = make_module(obs_dim=2, num_tasks=2)
    step = torch.tensor([0, 1, 2, 0, 0, 1])  # segments of 3, 1 and 2 rows
    obs = torch.randn(6, 2)
    next_obs = torch.cat([obs[1:], torch.randn(1, 2)])
    next_obs[[2, 3]] = torch.randn(2, 2)  # each segment's bootstrap state
    z = torch.randn(3, 2).repeat_interleave(torch.tensor([3, 1, 2]), dim=0)
    time_left = torch.ones(6)
    with torch.no_grad():
        values, next_values = _values_and_next_values(module, obs, next_obs, z, time_left, step)
        torch.testing.assert_close(values, module.value(obs, z, time_left))
        torch.testing.assert_close(next_values, module.value(next_obs, z, time_left))


@pytest.mark.parametrize("estimator", ["seed", "unbiased", "score"])
def test_the_kl_penalty_has_no_gradient_at_the_first_minibatch_and_pulls_pi_back_after(estimator):
    """kl_coeff * KL(pi_old || pi) / S: zero, with a zero gradient, while pi is pi_old (the first
    minibatch steps as without it); once pi has moved, exactly beta * sum KL / S, with a gradient."""
    module = make_module(num_tasks=2, history_len=2)
    batch = _batch(module)
    without = _term_gradients(module, batch, estimator, clip_param=0.2)
    values = {}
    penalised = _term_gradients(module, batch, estimator, clip_param=0.2, kl_coeff=0.5, values=values)
    assert abs(float(values["kl_penalty_term"])) < 1e-6
    assert penalised["kl_penalty_term"].abs().max() < 1e-5
    torch.testing.assert_close(penalised["surrogate"], without["surrogate"], rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # pi moves: its log-std bias grows by 0.3
        module.policy_net[-1].bias[module.action_dim:] += 0.3
    moved = _term_gradients(module, batch, estimator, clip_param=0.2, kl_coeff=0.5, values=values)
    old = module.get_train_action_dist_cls().from_logits(batch[Columns.ACTION_DIST_INPUTS])
    with torch.no_grad():
        new = module.get_train_action_dist_cls().from_logits(module.forward_train(batch)[Columns.ACTION_DIST_INPUTS])
        expected = -0.5 * old.kl(new).sum() / 2
    assert float(expected) < -1e-3
    torch.testing.assert_close(values["kl_penalty_term"], expected, rtol=1e-5, atol=1e-7)
    assert moved["kl_penalty_term"].norm() > 1e-4


@pytest.mark.parametrize("mean_kl, expected", [(0.05, 0.3), (0.02, 0.2), (0.01, 0.2), (0.004, 0.1),
                                               (float("nan"), 0.2)])
def test_the_kl_coefficient_adapts_as_rllibs_ppo(mean_kl, expected):
    from rllib_embed.embed_pg.torch.embed_pg_torch_learner import adapt_kl_coeff
    assert adapt_kl_coeff(0.2, mean_kl, kl_target=0.01) == pytest.approx(expected)


def test_the_adapted_kl_coefficient_is_reported_and_checkpointed(ray_session, tmp_path):
    config = (EmbedPGConfig().environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 2})
              .env_runners(num_env_runners=0, rollout_fragment_length=10)
              .training(update="clipped", num_epochs=2, kl_coeff=0.2, kl_target=1e-9).debugging(seed=4))
    algo = config.build_algo()
    try:
        for n in range(1, 4):  # every update's KL is far above 2 * 1e-9: beta grows by 1.5 each time
            stats = algo.train()["learners"]["default_policy"]
            assert stats["curr_kl_coeff"] == pytest.approx(0.2 * 1.5 ** n)
            assert stats["mean_kl_loss"] > 0
        learner = algo.learner_group._learner
        state = learner.get_state()
        learner._kl_coeffs = {}
        assert learner.kl_coeff("default_policy") == pytest.approx(0.2)
        learner.set_state(state)
        assert learner.kl_coeff("default_policy") == pytest.approx(0.2 * 1.5 ** 3)
        path = algo.save_to_path(str(tmp_path / "checkpoint"))
    finally:
        algo.stop()
    from ray.rllib.algorithms.algorithm import Algorithm
    restored = Algorithm.from_checkpoint(path)
    try:  # the algorithm's checkpoint carries beta: a resumed run goes on with it
        assert restored.learner_group._learner.kl_coeff("default_policy") == pytest.approx(0.2 * 1.5 ** 3)
    finally:
        restored.stop()


def test_shuffle_rows_puts_every_column_in_one_random_order():
    """The clipped update's batch reaches RLlib's minibatch iterator (which shuffles only after its
    first pass) with its rows shuffled: every column, nested ones too, in the same order."""
    from rllib_embed.embed_pg.connectors import ShuffleRows
    rows = torch.arange(12.0)
    batch = {"p": {"x": rows, "obs": {"a": rows * 2, "b": rows[:, None].repeat(1, 3)}, "scalar": torch.tensor(5.0)}}
    np.random.seed(3)
    out = ShuffleRows()(rl_module=None, batch=batch, episodes=[])["p"]
    order = out["x"].long()
    assert sorted(order.tolist()) == list(range(12)) and order.tolist() != list(range(12))
    assert torch.equal(out["obs"]["a"], 2 * out["x"]) and torch.equal(out["obs"]["b"][:, 1], out["x"])
    assert out["scalar"].item() == 5.0


def _connector_batch(module, reward_scale, alpha=0.05):
    """Two tasks x two envs, one 4-step segment each, through AugmentedRewardAndWeights (GAE)."""
    from rllib_embed.embed_pg.connectors import AugmentedRewardAndWeights
    steps = list(range(4)) * 4
    torch.manual_seed(5)
    batch = sample_batch(module, tasks=[0] * 8 + [1] * 8, obs=torch.randn(16, 2), windows=torch.randn(16, 2, 2),
                         steps=steps, seed=7)
    rewards = torch.tensor([1.0, 0.5, -0.2, 0.3, 0.1, 0.9, 0.4, -0.6, 2.0, -1.0, 0.5, 0.7, -0.3, 1.2, 0.2, 0.8])
    batch.update({Columns.REWARDS: reward_scale * rewards, Columns.TERMINATEDS: torch.zeros(16),
                  C.NEXT_OBS: torch.randn(16, 2), C.SEGMENT_ID: torch.arange(16) // 4,
                  C.SEGMENT_ENV: torch.arange(16) // 4})
    connector = AugmentedRewardAndWeights(gamma=0.9, alpha2=alpha, alpha3=alpha, returns="reward_to_go",
                                          baseline="value", embedding_baseline="task_mean", advantages="gae",
                                          lambda_=0.8, normalize_advantages="per_task")
    with torch.no_grad():
        connector._add_weights(module, batch)
    return batch


def test_standardised_gae_weights_do_not_depend_on_the_rewards_scale():
    """With GAE and standardised advantages the extrinsic advantage is standardised on its own and
    the alpha terms' advantage (centred within the task) is added beside it: rewards x1 and x1000
    give the same weights (V at 0 here, so the extrinsic advantages scale with the rewards), the
    alpha terms weigh the same against one standard deviation of the extrinsic advantage, and the
    pathwise terms keep scale 1."""
    module = make_module(num_tasks=2, history_len=2)
    with torch.no_grad():
        for p in module.value_net.parameters():
            p.zero_()
    small, large = _connector_batch(module, 1.0), _connector_batch(module, 1000.0)
    for column in (C.POLICY_WEIGHT, C.EMBEDDING_WEIGHT):
        torch.testing.assert_close(small[column], large[column], rtol=1e-4, atol=1e-4)
    assert torch.equal(small[C.PATHWISE_SCALE], torch.ones(16))
    extrinsic_only = _connector_batch(module, 1.0, alpha=0.0)[C.POLICY_WEIGHT]
    task = torch.arange(16) // 8
    for k in (0, 1):  # alphas 0: the task's standardised extrinsic advantage
        w = extrinsic_only[task == k].double()
        assert abs(w.mean().item()) < 1e-5 and abs(w.std(unbiased=False).item() - 1.0) < 1e-4
        shift = (small[C.POLICY_WEIGHT] - extrinsic_only)[task == k]  # the alpha terms' part: centred, not scaled
        assert abs(shift.mean().item()) < 1e-5 and shift.abs().max() > 1e-3
