"""The EmbedPG surrogate objectives: one function per term, one per estimator.

Each function returns a *sum* over rows; `embed_pg_surrogate` divides by a normaliser N:
the number of segments S = K*D for the literal update (the derivation's 1/(KD) sum_{k,d}),
the minibatch's row count for the clipped update (the objective per env step, PPO's mean
over timesteps). A segment's own terms (log p(z|t), alpha1 H[p]) are spread over the rows
that hold it, each row carrying a share of it (`segment_share`: 1/L for a segment of L
rows, the shares of a segment summing to 1), so that any set of rows, whole segments or
not, gives an unbiased estimate of the objective.
Gradient ascent on the surrogate gives the estimator's gradients; the learner
minimises its negative. `docs/equations.md` maps each term to the derivation.

Notation: i indexes steps within a segment, gamma^i is `discount`, z is the
episode's sampled skill (a constant), z_phi = mu_phi(t) + sigma_phi(t) * eps its
re-parameterised value, a_i the sampled action (a constant), a_i(theta, phi) its
re-parameterised value.
"""

from typing import Dict, Optional

import torch

from rllib_embed.embed_pg.distributions import diag_gaussian_entropy

ESTIMATORS = ("seed", "unbiased", "score")
UPDATES = ("literal", "clipped")


def policy_score_term(log_pi: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum_i W_i * log pi_theta(a_i | s_i, z_phi).

    W_i is R (estimator's literal segment return) or R_i (reward-to-go), minus an
    optional baseline b(s_i, z); a constant. Reaches theta, and phi through z_phi.
    """
    return (weight.detach() * log_pi).sum()


def embedding_score_term(log_p_z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum_rows w_r * log p_phi(z | t), z the episode's sampled constant (seed estimator only).

    w_r = share_r * (R - b) of the row's segment: summed over a segment's rows this is the
    derivation's (R - b) * log p_phi(z | t), once per segment.
    """
    return (weight.detach() * log_p_z).sum()


def clipped_score_term(log_prob: torch.Tensor, old_log_prob: torch.Tensor, weight: torch.Tensor,
                       clip_param: float) -> torch.Tensor:
    """sum_rows min(rho W, clip(rho, 1 - eps, 1 + eps) W), rho = exp(log_prob - old_log_prob).

    PPO's clipped surrogate L^CLIP (Schulman et al. 2017, "Proximal Policy Optimization
    Algorithms", eq. 7) in place of a score-function term `sum W log_prob`. Where rho = 1
    (the first minibatch of a batch) d rho = d log_prob, so its gradient equals that of
    `policy_score_term` / `embedding_score_term` with the same weight W.
    """
    ratio = torch.exp(log_prob - old_log_prob.detach())
    weight = weight.detach()
    return torch.min(ratio * weight, torch.clamp(ratio, 1.0 - clip_param, 1.0 + clip_param) * weight).sum()


def ratio_stats(log_prob: torch.Tensor, old_log_prob: torch.Tensor, clip_param: float) -> Dict[str, torch.Tensor]:
    """Diagnostics of an importance ratio rho = exp(log_prob - old_log_prob), no gradient.

    kl: mean of (rho - 1) - log rho, an unbiased, non-negative estimate of KL(old || new)
    (Schulman's "k3", as CleanRL's approx_kl); clip_fraction: share of rows with
    |rho - 1| > clip_param.
    """
    with torch.no_grad():
        log_ratio = log_prob - old_log_prob
        ratio = torch.exp(log_ratio)
        return {"kl": ((ratio - 1.0) - log_ratio).mean(),
                "clip_fraction": ((ratio - 1.0).abs() > clip_param).float().mean()}


def kl_penalty_term(action_kl: torch.Tensor, kl_coeff: float) -> torch.Tensor:
    """kl_coeff * sum_i KL(pi_old(. | s_i, z_old) || pi_theta(. | s_i, z_phi)) -> theta, phi.

    PPO's adaptive KL penalty (Schulman et al. 2017, "Proximal Policy Optimization
    Algorithms", eq. 8; RLlib's PPO `use_kl_loss`), subtracted from the surrogate. Zero, with a
    zero gradient, where pi = pi_old (the first minibatch of a batch).
    """
    return kl_coeff * action_kl.sum()


def inference_term(log_q: torch.Tensor, discount: torch.Tensor, alpha2: float) -> torch.Tensor:
    """sum_i gamma^i * alpha2 * log q_psi(. | ., s_i^H), the pathwise part of the alpha2 reward.

    seed:     log q_psi(z     | a_i(theta, phi), s_i^H)  -> psi, theta, phi
    unbiased: log q_psi(z_phi | a_i,             s_i^H)  -> psi, phi
    """
    return (discount * alpha2 * log_q).sum()


def policy_entropy_term(policy_entropy: torch.Tensor, discount: torch.Tensor, alpha3: float) -> torch.Tensor:
    """sum_i gamma^i * alpha3 * H[pi_theta(. | s_i, z_phi)] -> theta, phi."""
    return (discount * alpha3 * policy_entropy).sum()


def embedding_entropy_term(all_tasks_log_std: torch.Tensor, alpha1: float) -> torch.Tensor:
    """alpha1 * 1/K * sum_k H[p_phi(. | t_k)] over all K tasks -> phi (once per objective:
    `embed_pg_surrogate` weighs it by the segments its rows stand for)."""
    return alpha1 * diag_gaussian_entropy(all_tasks_log_std).mean()


def embed_pg_surrogate(
    *,
    estimator: str,
    log_pi: torch.Tensor,
    policy_weight: torch.Tensor,
    log_p_z: torch.Tensor,
    embedding_weight: torch.Tensor,
    log_q: torch.Tensor,
    policy_entropy: torch.Tensor,
    discount: torch.Tensor,
    all_tasks_log_std: torch.Tensor,
    alpha1: float,
    alpha2: float,
    alpha3: float,
    normalizer: float,
    segment_share: torch.Tensor,
    clip_param: Optional[float] = None,
    old_log_pi: Optional[torch.Tensor] = None,
    old_log_p_z: Optional[torch.Tensor] = None,
    pathwise_scale: Optional[torch.Tensor] = None,
    action_kl: Optional[torch.Tensor] = None,
    kl_coeff: float = 0.0,
) -> Dict[str, torch.Tensor]:
    """J_seed, J_unbiased or J_score (docs/estimator.md), and each of its terms, as sums over rows / N.

    J_seed     = 1/S sum_{k,d} [ R (sum_i log pi(a_i|s_i,z_phi) + log p_phi(z|t))
                                 + sum_i gamma^i (alpha2 log q(z|a_i(theta,phi),s_i^H) + alpha3 H[pi(.|s_i,z_phi)]) ]
                 + alpha1 1/K sum_k H[p_phi(.|t_k)]
    J_unbiased = 1/S sum_{k,d} [ sum_i R_i log pi(a_i|s_i,z_phi)
                                 + sum_i gamma^i (alpha2 log q(z_phi|a_i,s_i^H) + alpha3 H[pi(.|s_i,z_phi)]) ]
                 + alpha1 1/K sum_k H[p_phi(.|t_k)]
    J_score    = 1/S sum_{k,d} [ R log p_phi(z|t) + sum_i R_i log pi(a_i|s_i,z)
                                 + sum_i gamma^i (alpha2 log q(z|a_i,s_i^H) + alpha3 H[pi(.|s_i,z)]) ]
                 + alpha1 1/K sum_k H[p_phi(.|t_k)]        (z, a_i the sampled constants)

    Every input is per row ([B]); `log_p_z` and `embedding_weight` carry the row's segment's
    log p(z|t) and weight (R - b). `segment_share` ([B]) is the row's share of its segment
    (1/L on each of a segment's L rows, or 1 on its first row and 0 elsewhere): the segment terms
    are sum_rows share * (...), and alpha1 H[p] is weighted by sum_rows share / N, the number of
    segments the rows stand for over N. With N = S and every row of the batch this is J; with
    N = m, the rows of a minibatch, its expectation over random rows is J / (B / S), the
    objective per env step (B rows in the batch, B / S per segment on average).

    The caller passes `log_q` evaluated as the estimator requires, and for
    "unbiased" the embedding score term is dropped here.

    With `clip_param` (update="clipped", docs/estimator.md's "trust-region update"), each score
    term becomes `clipped_score_term` with its own old density: log pi_old(a_i|s_i,z_old)
    and log p_old(z|t) per row (a row's share scales its weight, which the clip leaves
    linear). The pathwise terms and alpha1 H[p] stay as they are.

    With `action_kl` ([B], KL(pi_old || pi) per row) and `kl_coeff` > 0, the clipped update's
    KL penalty `kl_penalty_term` / N is subtracted (on the score terms' scale, as PPO's loss
    puts it beside its mean surrogate).

    `pathwise_scale` ([B]; None: 1) multiplies each row's pathwise terms, and its share-weighted
    sum the alpha1 term: with standardised advantages it is 1 / std of the row's task's
    advantages, so a task's whole objective is divided by the same number and alpha1..3 keep
    their meaning (weights relative to the reward), as in the unstandardised objective.
    Without it standardisation would scale the reward's terms alone: on HalfCheetahDir
    (rewards of a few units per step) the entropy bonus outweighed the return.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}")

    def score(literal_term, log_prob, weight, old_log_prob):
        if clip_param is None:
            return literal_term(log_prob, weight)
        return clipped_score_term(log_prob, old_log_prob, weight, clip_param)

    scale = torch.ones_like(discount) if pathwise_scale is None else pathwise_scale.detach()
    share = segment_share.detach()
    terms = {
        "policy_score_term": score(policy_score_term, log_pi, policy_weight, old_log_pi) / normalizer,
        "inference_term": inference_term(log_q, discount * scale, alpha2) / normalizer,
        "policy_entropy_term": policy_entropy_term(policy_entropy, discount * scale, alpha3) / normalizer,
        "embedding_entropy_term": embedding_entropy_term(all_tasks_log_std, alpha1) * (share * scale).sum() / normalizer,
    }
    if estimator in ("seed", "score"):
        terms["embedding_score_term"] = score(embedding_score_term, log_p_z, embedding_weight * share,
                                              old_log_p_z) / normalizer
    if action_kl is not None and kl_coeff:
        terms["kl_penalty_term"] = -kl_penalty_term(action_kl, kl_coeff) / normalizer
    terms["surrogate"] = sum(terms.values())
    return terms
