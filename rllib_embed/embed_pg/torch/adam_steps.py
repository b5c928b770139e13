"""One multi-tensor Adam step for several torch Adam optimizers (EmbedPG keeps one per network).

torch's foreach Adam (`torch.optim.adam.adam`, foreach=True) is elementwise per tensor, so one
call over the parameters of all four networks computes what four `optimizer.step()` calls
compute, bit for bit (tests/test_apply_gradients.py), with a quarter of the Python and
dispatch overhead (about 0.1 ms of a clipped-update step on a CPU learner).

Only optimizers that `optimizer.step()` would step in exactly this way are merged: plain
`torch.optim.Adam`, foreach, one param group, a float lr, no step hooks, not capturable,
differentiable or fused, and equal hyper-parameters; any other optimizer (or a torch whose
private Adam API differs from the one this was written against) takes its own `step()`.
"""

import inspect
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from torch.optim.adam import adam as adam_functional

_STEP_KWARGS = ("amsgrad", "has_complex", "beta1", "beta2", "lr", "weight_decay", "eps", "maximize", "foreach",
                "capturable", "differentiable", "fused", "grad_scale", "found_inf", "decoupled_weight_decay")
_INIT_GROUP_ARGS = ["group", "params_with_grad", "grads", "exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs",
                    "state_steps"]


def _torch_api_matches() -> bool:
    """torch's functional Adam and Adam._init_group have the signatures used below (torch 2.6+)."""
    try:
        functional = set(inspect.signature(adam_functional).parameters)
        init_group = list(inspect.signature(torch.optim.Adam._init_group).parameters)[1:]
    except (TypeError, ValueError, AttributeError):
        return False
    return set(_STEP_KWARGS) <= functional and init_group == _INIT_GROUP_ARGS


MERGEABLE_TORCH = _torch_api_matches()


def _merge_key(optimizer: torch.optim.Optimizer) -> Optional[Tuple[Any, ...]]:
    """The hyper-parameters a merged step shares, or None where `optimizer` must step alone."""
    if type(optimizer) is not torch.optim.Adam or len(optimizer.param_groups) != 1:
        return None
    if optimizer._optimizer_step_pre_hooks or optimizer._optimizer_step_post_hooks:
        return None
    if getattr(optimizer, "grad_scale", None) is not None or getattr(optimizer, "found_inf", None) is not None:
        return None
    g = optimizer.param_groups[0]
    if not g.get("foreach") or g.get("fused") or g.get("capturable") or g.get("differentiable") \
            or isinstance(g["lr"], torch.Tensor):
        return None
    return (g["lr"], tuple(g["betas"]), g["eps"], g["weight_decay"], g["amsgrad"], g["maximize"],
            g.get("decoupled_weight_decay", False))


def _global_hooks() -> bool:
    from torch.optim import optimizer as optimizer_module
    return bool(getattr(optimizer_module, "_global_optimizer_pre_hooks", None)
                or getattr(optimizer_module, "_global_optimizer_post_hooks", None))


def step_optimizers(optimizers: Sequence[torch.optim.Optimizer]) -> None:
    """`optimizer.step()` for each of `optimizers`, with one multi-tensor Adam call for each set
    of them that share their hyper-parameters (see the module docstring).

    Args:
        optimizers: torch optimizers whose parameters' `.grad` hold the gradients to apply.
    """
    groups: Dict[Tuple[Any, ...], List[torch.optim.Adam]] = {}
    mergeable = MERGEABLE_TORCH and not _global_hooks()
    for optimizer in optimizers:
        key = _merge_key(optimizer) if mergeable else None
        if key is None:
            optimizer.step()
        else:
            groups.setdefault(key, []).append(optimizer)
    for members in groups.values():
        if len(members) == 1:
            members[0].step()
        else:
            _adam_step(members)


@torch.no_grad()
def _adam_step(optimizers: List[torch.optim.Adam]) -> None:
    """What `Adam.step` (torch 2.6+) does for each optimizer's one param group, in one call."""
    lists: Tuple[List[torch.Tensor], ...] = ([], [], [], [], [], [])
    has_complex = False
    for optimizer in optimizers:
        has_complex |= bool(optimizer._init_group(optimizer.param_groups[0], *lists))
    params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps = lists
    if not params:
        return
    g = optimizers[0].param_groups[0]
    adam_functional(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                    amsgrad=g["amsgrad"], has_complex=has_complex, beta1=g["betas"][0], beta2=g["betas"][1],
                    lr=g["lr"], weight_decay=g["weight_decay"], eps=g["eps"], maximize=g["maximize"],
                    foreach=True, capturable=False, differentiable=False, fused=None, grad_scale=None,
                    found_inf=None, decoupled_weight_decay=g.get("decoupled_weight_decay", False))
