"""The EmbedPG surrogate objectives: one function per term, one per estimator.

Each function returns a *sum* over rows (or segments); `embed_pg_surrogate`
divides by the number of segments S = K*D, as the derivation's 1/(KD) sum_{k,d}.
Gradient ascent on the surrogate gives the estimator's gradients; the learner
minimises its negative. `docs/equations.md` maps each term to the derivation.

Notation: i indexes steps within a segment, gamma^i is `discount`, z is the
episode's sampled skill (a constant), z_phi = mu_phi(t) + sigma_phi(t) * eps its
re-parameterised value, a_i the sampled action (a constant), a_i(theta, phi) its
re-parameterised value.
"""

from typing import Dict

import torch

from rllib_embed.embed_pg.distributions import diag_gaussian_entropy

ESTIMATORS = ("seed", "unbiased")


def policy_score_term(log_pi: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum_i W_i * log pi_theta(a_i | s_i, z_phi).

    W_i is R (estimator's literal segment return) or R_i (reward-to-go), minus an
    optional baseline b(s_i, z); a constant. Reaches theta, and phi through z_phi.
    """
    return (weight.detach() * log_pi).sum()


def embedding_score_term(log_p_z: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """sum_segments (R - b) * log p_phi(z | t), z the sampled constant (seed estimator only)."""
    return (weight.detach() * log_p_z).sum()


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
    """alpha1 * 1/K * sum_k H[p_phi(. | t_k)] over all K tasks -> phi."""
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
    num_segments: float,
) -> Dict[str, torch.Tensor]:
    """J_seed or J_unbiased of shared/notes/estimator.md, and each of its terms.

    J_seed     = 1/S sum_{k,d} [ R (sum_i log pi(a_i|s_i,z_phi) + log p_phi(z|t))
                                 + sum_i gamma^i (alpha2 log q(z|a_i(theta,phi),s_i^H) + alpha3 H[pi(.|s_i,z_phi)]) ]
                 + alpha1 1/K sum_k H[p_phi(.|t_k)]
    J_unbiased = 1/S sum_{k,d} [ sum_i R_i log pi(a_i|s_i,z_phi)
                                 + sum_i gamma^i (alpha2 log q(z_phi|a_i,s_i^H) + alpha3 H[pi(.|s_i,z_phi)]) ]
                 + alpha1 1/K sum_k H[p_phi(.|t_k)]

    The caller passes `log_q` evaluated as the estimator requires, and for
    "unbiased" the embedding score term is dropped here.
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {ESTIMATORS}; got {estimator!r}")
    terms = {
        "policy_score_term": policy_score_term(log_pi, policy_weight) / num_segments,
        "inference_term": inference_term(log_q, discount, alpha2) / num_segments,
        "policy_entropy_term": policy_entropy_term(policy_entropy, discount, alpha3) / num_segments,
        "embedding_entropy_term": embedding_entropy_term(all_tasks_log_std, alpha1),
    }
    if estimator == "seed":
        terms["embedding_score_term"] = embedding_score_term(log_p_z, embedding_weight) / num_segments
    terms["surrogate"] = sum(terms.values())
    return terms
