"""The seed surrogate's autograd gradients equal the derivation's theta, psi, phi formulas.

The formulas are written out separately, segment by segment and step by step, with
torch.distributions (not the project's density code) and differentiated term by term.
"""

import torch
from torch.distributions import Categorical, Normal

import gymnasium as gym

from ray.rllib.core.columns import Columns

from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.torch.embed_pg_torch_learner import surrogate_terms
from tests.helpers import make_module, sample_batch

GAMMA, A1, A2, A3 = 0.9, 0.3, 0.7, 0.2
I = 3  # steps per segment; two segments (K=2 tasks, D=1)


def _batch(module):
    torch.manual_seed(1)
    obs = torch.randn(2 * I, 2)
    windows = torch.randn(2 * I, 2, 2)
    batch = sample_batch(module, tasks=[0] * I + [1] * I, obs=obs, windows=windows, steps=[0, 1, 2] * 2, seed=3)
    R = torch.tensor([2.5] * I + [-1.5] * I)  # the (constant) segment returns
    batch[C.POLICY_WEIGHT] = R
    batch[C.EMBEDDING_WEIGHT] = R
    return batch, R


def _params(module):
    return {"theta": list(module.policy_net.parameters()), "psi": list(module.inference_net.parameters()),
            "phi": list(module.embedding_net.parameters())}


def _grad(scalar, params):
    g = torch.autograd.grad(scalar, params, allow_unused=True, retain_graph=True)
    return torch.cat([(x if x is not None else torch.zeros_like(p)).reshape(-1) for x, p in zip(g, params)])


def _autograd_of_surrogate(module, batch):
    fwd = module.forward_train(batch)
    J = surrogate_terms(module, batch, fwd, estimator="seed", gamma=GAMMA, alpha1=A1, alpha2=A2, alpha3=A3,
                        normalizer=2)["surrogate"]
    return {name: _grad(J, ps) for name, ps in _params(module).items()}


def _normal(params):
    mean, log_std = params
    return Normal(mean, log_std.exp())


def _hand_formulas(module, batch, R):
    """theta, psi, phi gradients of the derivation's sampled formulas, per term."""
    params = _params(module)
    S, K = 2, module.num_tasks
    task, obs = batch[Columns.OBS]["task"], batch[Columns.OBS]["obs"]
    terms = {name: {} for name in params}

    def add(name, term, scalar):
        terms[name][term] = terms[name].get(term, 0) + _grad(scalar, params[name]) / S

    for c in range(S):
        rows = range(c * I, (c + 1) * I)
        t0 = task[c * I]
        emb = module.embedding_params(t0[None])
        z_phi = emb[0] + emb[1].exp() * batch[C.Z_NOISE][c * I][None]
        z = z_phi.detach()
        sum_log_pi, pathwise = 0.0, 0.0
        for i, n in enumerate(rows):
            s, a, w = obs[n][None], batch[Columns.ACTIONS][n][None], batch[C.OBS_WINDOW][n][None]
            mean, log_std = module.policy_dist_inputs(s, z_phi).chunk(2, -1)
            pi = Normal(mean, log_std.exp())
            sum_log_pi = sum_log_pi + pi.log_prob(a).sum()
            old_mean, old_log_std = batch[Columns.ACTION_DIST_INPUTS][n][None].chunk(2, -1)
            a_rep = mean + log_std.exp() * (a - old_mean) / old_log_std.exp()  # a_i(theta, phi)
            log_q = _normal(module.inference_params(a_rep, w)).log_prob(z).sum()
            pathwise = pathwise + GAMMA ** i * (A2 * log_q + A3 * pi.entropy().sum())
        log_p = _normal(emb).log_prob(z).sum()
        # theta: R grad sum log pi + grad sum gamma^i (a2 log q(z|a_theta) + a3 H)
        add("theta", "score", R[c * I] * sum_log_pi)
        add("theta", "pathwise", pathwise)
        # psi: grad sum gamma^i a2 log q(z | a_i, s^H)
        add("psi", "pathwise", pathwise)
        # phi: R (grad sum log pi(z_phi) + grad log p(z|t)) + grad sum gamma^i (...) ...
        add("phi", "score", R[c * I] * (sum_log_pi + log_p))
        add("phi", "pathwise", pathwise)
    # ... + a1 1/K sum_k grad H[p(.|t_k)]
    all_tasks = _normal(module.embedding_params(torch.eye(K)))
    terms["phi"]["entropy"] = _grad(A1 * all_tasks.entropy().sum(-1).mean(), params["phi"])
    return terms


def test_seed_surrogate_gradients_equal_the_derivations_formulas_term_by_term():
    module = make_module(num_tasks=2, history_len=2)
    batch, R = _batch(module)
    auto = _autograd_of_surrogate(module, batch)
    hand = _hand_formulas(module, batch, R)
    for name in ("theta", "psi", "phi"):
        expected = sum(hand[name].values())
        assert torch.allclose(auto[name], expected, rtol=1e-4, atol=1e-5), name
        # Every term of the formula moves its parameters (no silent stop-gradient).
        for term, g in hand[name].items():
            assert g.norm() > 1e-4, f"{name}: term {term} has no gradient"


def test_psi_gradient_does_not_depend_on_the_returns():
    module = make_module(num_tasks=2, history_len=2)
    batch, _ = _batch(module)
    g1 = _autograd_of_surrogate(module, batch)["psi"]
    batch[C.POLICY_WEIGHT] = batch[C.POLICY_WEIGHT] * 10
    batch[C.EMBEDDING_WEIGHT] = batch[C.EMBEDDING_WEIGHT] * 10
    g2 = _autograd_of_surrogate(module, batch)["psi"]
    assert torch.allclose(g1, g2)


def test_discrete_policy_gradients_match_with_the_action_held_constant_in_q():
    """Discrete actions have no re-parameterisation: q sees the sampled one-hot."""
    module = make_module(num_tasks=2, history_len=2, action_space=gym.spaces.Discrete(3))
    batch, R = _batch(module)
    fwd = module.forward_train(batch)
    J = surrogate_terms(module, batch, fwd, estimator="seed", gamma=GAMMA, alpha1=A1, alpha2=A2, alpha3=A3,
                        normalizer=2)["surrogate"]
    theta = list(module.policy_net.parameters())
    auto = _grad(J, theta)
    task, obs = batch[Columns.OBS]["task"], batch[Columns.OBS]["obs"]
    hand = 0
    for n in range(2 * I):
        z = module.skill(task[n][None], batch[C.Z_NOISE][n][None])
        pi = Categorical(logits=module.policy_dist_inputs(obs[n][None], z))
        i = int(batch[C.STEP_IN_SEGMENT][n])
        hand = hand + _grad(R[n] * pi.log_prob(batch[Columns.ACTIONS][n]).sum() + GAMMA ** i * A3 * pi.entropy().sum(),
                            theta) / 2
    assert torch.allclose(auto, hand, rtol=1e-4, atol=1e-5)
