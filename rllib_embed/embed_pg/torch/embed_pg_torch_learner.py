"""EmbedPG's torch learner: the surrogate of `losses.embed_pg_surrogate`, one Adam per network.

update="literal": `num_epochs` (default 1) full-batch steps on the user's surrogate, then
the passes that fit V alone (`value_epochs`). update="clipped": `num_epochs` (default 10)
epochs over minibatches of whole segments (`minibatches.py`; default a quarter of the batch),
the score terms clipped as PPO's, V fitted in the same steps, optionally PPO's adaptive KL
penalty (kl_coeff; its beta is learner state, adapted after each update, checkpointed).
"""

import functools
from typing import Any, Dict, List, Optional

import torch

from ray.rllib.connectors.common.batch_individual_items import BatchIndividualItems
from ray.rllib.core.columns import Columns
from ray.rllib.core.learner.torch.torch_learner import TorchLearner
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.utils.metrics import (ALL_MODULES, MODULE_TRAIN_BATCH_SIZE_MEAN,
                                     NUM_ENV_STEPS_TRAINED, NUM_ENV_STEPS_TRAINED_LIFETIME, NUM_MODULE_STEPS_TRAINED,
                                     NUM_MODULE_STEPS_TRAINED_LIFETIME, WEIGHTS_SEQ_NO)
from ray.rllib.utils.torch_utils import clip_gradients
from ray.rllib.utils.typing import ModuleID, TensorType

from rllib_embed.embed_pg import columns as C
from rllib_embed.embed_pg.connectors import AddSkillWindowsAndSegments, AugmentedRewardAndWeights, ShuffleRows
from rllib_embed.embed_pg.distributions import diag_gaussian_entropy, diag_gaussian_log_prob
from rllib_embed.embed_pg.losses import embed_pg_surrogate, ratio_stats
from rllib_embed.embed_pg.torch.adam_steps import step_optimizers


class EmbedPGTorchLearner(TorchLearner):
    """Minimises -J (J_seed or J_unbiased) plus V's squared error."""

    def build(self) -> None:
        if self._is_built:  # as RLlib's Learner.build: a second call must not insert the connectors again
            return
        super().build()
        self._passes_this_update = 0  # passes over the current batch so far, this one included
        self._stop_epochs = False  # set by the KL early stop (target_kl): the batch's later minibatches do not step
        self._skip_step = False  # this minibatch comes after the KL early stop
        self._last_stats: Dict[ModuleID, Dict[str, TensorType]] = {}  # the last step's terms, per module
        self._finite_checks = []  # set by postprocess_gradients, used by apply_gradients
        self._kl_coeffs: Dict[ModuleID, float] = {}  # the adaptive KL penalty's beta per module (kl_coeff)
        self._last_kls: Dict[ModuleID, TensorType] = {}  # the update's last minibatch's mean KL, for beta's adaptation
        self._last_diagnostics: Dict[ModuleID, Dict[str, Any]] = {}  # the last step's stats to compute, per module
        self._steps_trained: Dict[ModuleID, List[int]] = {}  # [rows, minibatches] per module, this update
        self._env_steps_trained = 0  # this update's env steps over all minibatches
        config = self.config
        if self._learner_connector is not None and config.add_default_connectors_to_learner_pipeline:
            self._learner_connector.insert_before(
                BatchIndividualItems, AddSkillWindowsAndSegments(
                    history_len=config.history_len, rollout_fragment_length=config.rollout_fragment_length,
                    bootstrap=config.resolved_advantages == "gae"))
            # After batching: one no-grad pass of the current networks gives r_hat and the weights.
            self._learner_connector.append(AugmentedRewardAndWeights(
                gamma=config.gamma, alpha2=config.alpha2, alpha3=config.alpha3,
                returns=config.returns, baseline=config.baseline, embedding_baseline=config.embedding_baseline,
                advantages=config.resolved_advantages, lambda_=config.lambda_,
                normalize_advantages=config.resolved_normalize_advantages))
            if config.update == "clipped" and config.shuffle_batch_per_epoch:
                self._learner_connector.append(ShuffleRows())  # the first epoch's minibatches: random rows too

    def before_gradient_based_update(self, *, timesteps: Dict[str, Any]) -> None:
        super().before_gradient_based_update(timesteps=timesteps)
        self._passes_this_update = 0
        self._stop_epochs = False

    def after_gradient_based_update(self, *, timesteps: Dict[str, Any]) -> None:
        # The per-term stats of the update's last step, as window=1 stats logged at every step
        # would report (and as RLlib's Learner.update logs the total loss): logging ~15 values
        # per minibatch cost more than a tenth of a clipped-update step.
        # The ratios' diagnostics and p's entropy are computed here, from the last step's
        # detached tensors: the same values, without ~20 small tensor ops in every step.
        for module_id, stats in self._last_stats.items():
            for name, diagnostics in self._last_diagnostics.pop(module_id, {}).items():
                value = diagnostics()
                stats.update({f"{name}_{k}": v for k, v in value.items()} if isinstance(value, dict) else {name: value})
            self.metrics.log_dict(stats, key=module_id, window=1)
        self._last_stats = {}
        # The KL penalty's beta, adapted on the KL of the update's last minibatch, as RLlib's PPO
        # does (it peeks its window=1 `mean_kl_loss` after the update).
        for module_id, kl in self._last_kls.items():
            kl = float(kl)
            config = self.config.get_config_for_module(module_id)
            coeff = adapt_kl_coeff(self.kl_coeff(module_id), kl, config.kl_target)
            self._kl_coeffs[module_id] = coeff
            self.metrics.log_dict({"mean_kl_loss": kl, "curr_kl_coeff": coeff}, key=module_id, window=1)
        self._last_kls = {}
        self._log_update_steps_trained()
        super().after_gradient_based_update(timesteps=timesteps)

    def _log_steps_trained_metrics(self, batch) -> None:
        # RLlib's Learner.update logs eight step counts after every minibatch (about a
        # twentieth of a clipped-update step); they are summed here and logged once per
        # update by `_log_update_steps_trained`.
        for module_id, module_batch in batch.policy_batches.items():
            counts = self._steps_trained.setdefault(module_id, [0, 0])
            counts[0] += len(module_batch)
            counts[1] += 1
        self._env_steps_trained += batch.env_steps()

    def _log_update_steps_trained(self) -> None:
        """The update's steps trained, as RLlib's `Learner._log_steps_trained_metrics` logs them per
        minibatch: the same keys, reductions and sums; the mean minibatch size logged once per update."""
        log = self.metrics.log_value
        for module_id, (rows, minibatches) in self._steps_trained.items():
            log((module_id, WEIGHTS_SEQ_NO), self._weights_seq_no, window=1)
            log((module_id, MODULE_TRAIN_BATCH_SIZE_MEAN), rows / minibatches, reduce="mean")
            log((module_id, NUM_MODULE_STEPS_TRAINED), rows, reduce="sum")
            log((module_id, NUM_MODULE_STEPS_TRAINED_LIFETIME), rows, reduce="lifetime_sum", with_throughput=True)
            log((ALL_MODULES, NUM_MODULE_STEPS_TRAINED), rows, reduce="sum", with_throughput=True)
            log((ALL_MODULES, NUM_MODULE_STEPS_TRAINED_LIFETIME), rows, reduce="lifetime_sum",
                with_throughput=True)
        if self._steps_trained:
            log((ALL_MODULES, NUM_ENV_STEPS_TRAINED), self._env_steps_trained, reduce="sum", with_throughput=True)
            log((ALL_MODULES, NUM_ENV_STEPS_TRAINED_LIFETIME), self._env_steps_trained, reduce="lifetime_sum",
                with_throughput=True)
        self._steps_trained, self._env_steps_trained = {}, 0

    def kl_coeff(self, module_id: ModuleID) -> float:
        """The KL penalty's current beta for `module_id` (config.kl_coeff until adapted)."""
        if module_id not in self._kl_coeffs:
            self._kl_coeffs[module_id] = float(self.config.get_config_for_module(module_id).kl_coeff)
        return self._kl_coeffs[module_id]

    def get_state(self, components=None, *, not_components=None, **kwargs):
        # The adapted beta travels with the checkpoint, so a resumed run penalises as the
        # uninterrupted one would (RLlib's PPO keeps it outside its state: a restore resets it).
        # A resumed run keeps its beta even where the new config gives another kl_coeff.
        state = super().get_state(components, not_components=not_components, **kwargs)
        if self._check_component(KL_COEFFS, components, not_components):
            state[KL_COEFFS] = dict(self._kl_coeffs)
        return state

    def set_state(self, state) -> None:
        super().set_state(state)
        if KL_COEFFS in state:
            self._kl_coeffs = {m: float(c) for m, c in state[KL_COEFFS].items()}

    def _uncompiled_update(self, batch: Dict, **kwargs):
        result = super()._uncompiled_update(batch, **kwargs)
        extra = self.config.value_epochs - self.config.resolved_num_epochs
        if self.config.update == "literal" and not self.distributed and self.config.baseline == "value" \
                and extra > 0 \
                and self._passes_this_update == self.config.resolved_num_epochs:
            # The batch's last full pass is done: the passes that fit V alone follow here, in
            # one loop, rather than as RLlib epochs (each of which re-slices the batch, logs
            # per-pass metrics, runs all four networks and steps all four optimizers: several
            # times V's own step). Under DDP they stay RLlib epochs (see config.learner_passes).
            self._fit_value_alone(batch, extra)
        return result

    def _fit_value_alone(self, batch: Dict, passes: int) -> None:
        """`passes` steps of V's optimizer on V's squared error: the steps a value-only RLlib
        epoch takes (same loss, clipping and Adam), without running pi, p and q."""
        clip = self._get_clip_function()
        for module_id in list(batch.keys()):
            if module_id not in self.module:
                continue
            config = self.config.get_config_for_module(module_id)
            module, b = self.module[module_id].unwrapped(), batch[module_id]
            optimizer = self.get_optimizer(module_id, "value")
            params = [p for group in optimizer.param_groups for p in group["params"]]
            with torch.no_grad():  # z is an input of V, a constant
                z = module.batch_skill(b)
            obs, time_left, target = b[Columns.OBS][C.OBS_KEY], b[C.TIME_LEFT], b[C.VALUE_TARGETS]
            for _ in range(passes):
                optimizer.zero_grad(set_to_none=True)
                loss = config.vf_loss_coeff * value_error(module.value(obs, z, time_left), target, config.vf_clip_param)
                loss.backward()
                if not self.config.torch_skip_nan_gradients:  # as RLlib's apply_gradients does
                    for p in params:
                        if p.grad is not None:
                            torch.nan_to_num_(p.grad)
                if config.grad_clip:
                    clip({i: p.grad for i, p in enumerate(params) if p.grad is not None},
                         grad_clip=config.grad_clip, grad_clip_by=config.grad_clip_by)
                optimizer.step()
        self._passes_this_update += passes

    def compute_losses(self, *, fwd_out, batch, **kwargs):
        self._passes_this_update += 1  # counted before the loss: the pass's number, from 1
        self._skip_step = self._stop_epochs  # after the KL early stop the batch's minibatches do not step
        return super().compute_losses(fwd_out=fwd_out, batch=batch, **kwargs)

    @classmethod
    def rl_module_required_apis(cls) -> list:
        return [ValueFunctionAPI]

    def configure_optimizers_for_module(self, module_id: ModuleID, config=None) -> None:
        module = self._module[module_id].unwrapped()
        for net, lr in config.lrs.items():  # optimizer names: policy, embedding, inference, value
            params = list(getattr(module, f"{net}_net").parameters())
            # torch's multi-tensor ("foreach") Adam where the device has it: the same arithmetic
            # as the default per-tensor loop on a CPU learner, bit for bit, with fewer calls.
            # (The fused kernel takes a third of the time but rounds differently: every measured
            # trajectory, and so every figure in docs/, would change.)
            # Not with an lr schedule: RLlib then sets lr as a tensor, which foreach Adam refuses.
            foreach = (all(p.device.type in ("cpu", "cuda") for p in params)
                       and not isinstance(lr, (list, tuple))) or None
            self.register_optimizer(module_id=module_id, optimizer_name=net,
                                    optimizer=torch.optim.Adam(params, foreach=foreach), params=params,
                                    lr_or_lr_schedule=lr)

    def compute_loss_for_module(self, *, module_id: ModuleID, config, batch: Dict[str, Any],
                                fwd_out: Dict[str, TensorType]) -> TensorType:
        if self._skip_step:  # after the KL early stop: no step, and the last step's stats stay
            return torch.zeros((), device=fwd_out[C.Z_PHI].device)
        module = self.module[module_id].unwrapped()
        value_loss = value_error(fwd_out[Columns.VF_PREDS], batch[C.VALUE_TARGETS], config.vf_clip_param) \
            if config.baseline == "value" else None
        if self._value_only_pass(config):
            # An extra pass that only fits V (value_epochs > num_epochs). The weights of
            # this batch were computed with V before the update, so this leaves the
            # estimator's expectation as it is and gives the next batch a better baseline.
            return config.vf_loss_coeff * value_loss + self._ddp_touch_all_outputs(fwd_out)
        # The literal update: S = K*D, the derivation's 1/(KD). With L data-parallel learners,
        # DDP averages the L gradients, so each learner's share of the sum over segments is
        # scaled by L/(KD). The clipped update: the minibatch's rows, the objective per env step
        # (PPO's mean over timesteps), so that lr, grad_clip and Adam's epsilon mean what they
        # mean for PPO whatever the rows per segment.
        if config.update == "clipped":
            normalizer = float(len(batch[C.SEGMENT_ID]))
        else:
            normalizer = config.num_tasks * config.copies_per_task / max(config.num_learners, 1)
        clip_param = config.clip_param if config.update == "clipped" else None
        ratios: Dict[str, Any] = {}
        kl_coeff = self.kl_coeff(module_id) if clip_param is not None and config.kl_coeff else 0.0
        terms = surrogate_terms(module, batch, fwd_out, estimator=config.estimator, gamma=config.gamma,
                                alpha1=config.alpha1, alpha2=config.alpha2, alpha3=config.alpha3,
                                normalizer=normalizer, clip_param=clip_param, ratio_stats_out=ratios,
                                kl_coeff=kl_coeff)
        if value_loss is None:
            value_loss = torch.zeros((), device=fwd_out[C.Z_PHI].device)
        stats = {name: value.detach() for name, value in terms.items()}
        all_tasks_log_std = fwd_out[C.ALL_TASKS_EMBEDDING_LOG_STD].detach()
        diagnostics = {"embedding_entropy": lambda: diag_gaussian_entropy(all_tasks_log_std).mean()}
        if clip_param is not None:
            if kl_coeff:  # the last minibatch's KL adapts beta (after_gradient_based_update)
                self._last_kls[module_id] = ratios.pop("mean_kl_loss")
            if config.target_kl is not None:  # the early stop reads the policy's KL at every step
                policy = ratios["policy"]()
                ratios["policy"] = lambda: policy
                if float(policy["kl"]) > config.target_kl:
                    self._stop_epochs = True  # this minibatch still steps; the batch's remaining ones do not
            diagnostics.update(ratios)
        stats["value_loss"] = value_loss.detach()
        self._last_stats[module_id] = stats  # logged once, after the update's last step
        self._last_diagnostics[module_id] = diagnostics
        return -terms["surrogate"] + config.vf_loss_coeff * value_loss + self._ddp_touch_all_outputs(fwd_out)

    def _value_only_pass(self, config) -> bool:
        """Passes num_epochs + 1 .. value_epochs of a batch fit V alone (update="literal" only)."""
        return config.update == "literal" and self._passes_this_update > config.resolved_num_epochs

    def _ddp_touch_all_outputs(self, fwd_out: Dict[str, TensorType]) -> TensorType:
        """0 * every differentiable output, under DDP only (else 0).

        DDP all-reduces the gradient of every parameter that produced a forward output
        and waits for all of them; outputs a pass leaves out of its loss (q under the
        other estimator, all but V in a value-only pass) get a zero gradient this way.
        """
        if not self.distributed:
            return 0.0
        return sum(0.0 * out.sum() for out in fwd_out.values()
                   if isinstance(out, torch.Tensor) and out.requires_grad)

    def compute_gradients(self, loss_per_module, **kwargs):
        if self._skip_step:  # no gradient, so no optimizer moves (Adam skips parameters without one)
            for param in self._params.values():
                param.grad = None
            return {}
        if self._grad_scalers is None:
            # TorchLearner.compute_gradients clears the gradients through each optimizer's
            # zero_grad(set_to_none=True), a call that costs about as much as a small
            # network's forward pass; setting every registered parameter's .grad to None
            # does the same in one loop. The rest is that method's.
            for param in self._params.values():
                param.grad = None
            total_loss = sum(loss_per_module.values())
            if isinstance(total_loss, int) or total_loss.grad_fn is None:
                return {}  # no loss, or every parameter frozen
            total_loss.backward()
            grads = {pid: p.grad for pid, p in self._params.items()}
        else:
            grads = super().compute_gradients(loss_per_module, **kwargs)
        if self._value_only_pass(self.config):
            # Only V steps in a value-only pass (under DDP the others hold zeros, which
            # would still move Adam's parameters).
            value_params = {id(p) for group in self.get_optimizer(optimizer_name="value").param_groups
                            for p in group["params"]}
            for pid, param in self._params.items():
                if id(param) not in value_params:
                    param.grad = None
                    grads[pid] = None
        # Networks a pass does not reach keep no gradient and no step.
        return {pid: g for pid, g in grads.items() if g is not None}

    @staticmethod
    def _get_clip_function():
        return clip_gradients_by_global_norm_foreach

    def apply_gradients(self, gradients_dict) -> None:
        # RLlib's apply_gradients tests every gradient tensor for nan/inf twice (before and
        # again inside its optimizer loop: about a tenth of a clipped-update step with four
        # networks), then steps each optimizer. The gradients here are the parameters' own
        # `.grad` tensors (compute_gradients; clipping works in place), so where every
        # tensor's norm is finite no element is nan/inf, and RLlib's method would only step
        # the optimizers: that is done directly, in one multi-tensor Adam call where they
        # agree (adam_steps.py). The norms are the clipping's where it saw every gradient
        # (`postprocess_gradients_for_module`), else one multi-tensor norm. Otherwise (a
        # nan/inf or an overflowing norm, grad scalers, lr scheduler classes) RLlib's method
        # runs as it is.
        checks, self._finite_checks = self._finite_checks, []
        grads = [g for g in gradients_dict.values() if g is not None]
        if grads and self._grad_scalers is None and self._lr_scheduler_classes is None \
                and all(self._params[pid].grad is g for pid, g in gradients_dict.items() if g is not None):
            if sum(n for n, _ in checks) == len(grads):
                finite = all(bool(flag) for _, flag in checks)
            else:
                finite = bool(torch.isfinite(torch.nn.utils.get_total_norm(grads, foreach=True)))
            if finite:
                step_optimizers([self.get_optimizer(module_id, name)
                                 for module_id, names in self._module_optimizers.items() for name in names])
                return
        super().apply_gradients(gradients_dict)

    def postprocess_gradients(self, gradients_dict):
        self._finite_checks = []  # (number of gradients, all finite) per clipped module
        return super().postprocess_gradients(gradients_dict)

    def postprocess_gradients_for_module(self, *, module_id: ModuleID, config=None, module_gradients_dict):
        if not self._value_only_pass(config):
            if not config.grad_clip or config.grad_clip_by != "global_norm":
                return super().postprocess_gradients_for_module(
                    module_id=module_id, config=config, module_gradients_dict=module_gradients_dict)
            # As RLlib's method: each network's gradient clipped by its own global norm, which
            # is logged (`gradients_<net>_global_norm`, window=1); here in one multi-tensor norm
            # for all networks rather than one call per network, and logged with the terms'
            # stats after the update's last step (the value window=1 reports).
            per_net = [(name, self.filter_param_dict_for_optimizer(param_dict=module_gradients_dict, optimizer=opt))
                       for name, opt in self.get_optimizers_for_module(module_id)]
            norms, finite = clip_networks_by_global_norm_foreach(
                [list(grads.values()) for _, grads in per_net], grad_clip=config.grad_clip)
            out, stats = {}, self._last_stats.setdefault(module_id, {})
            for (name, grads), norm in zip(per_net, norms):
                if grads:
                    stats[f"gradients_{name}_global_norm"] = norm
                out.update(grads)
            self._finite_checks.append((len(out), finite))
            return out
        # A value-only pass: clip V's gradient, and leave the logged norms of the pass that
        # stepped all networks as they are.
        grads = self.filter_param_dict_for_optimizer(
            param_dict=module_gradients_dict, optimizer=self.get_optimizer(module_id, "value"))
        if config.grad_clip:
            self._get_clip_function()(grads, grad_clip=config.grad_clip, grad_clip_by=config.grad_clip_by)
        return grads


def value_error(values: torch.Tensor, targets: torch.Tensor, vf_clip_param: Optional[float] = None) -> torch.Tensor:
    """V's loss: mean over rows of (V(s_i, z) - target_i)^2, each row's error clipped at
    `vf_clip_param` where given (RLlib's PPO `vf_clip_param`; a clipped row adds no gradient)."""
    error = (values - targets) ** 2
    if vf_clip_param is not None:
        error = torch.clamp(error, max=vf_clip_param)
    return error.mean()


KL_COEFFS = "kl_coeffs"  # learner state: the KL penalty's adapted beta per module


def adapt_kl_coeff(kl_coeff: float, mean_kl: float, kl_target: float) -> float:
    """PPO's adaptive KL coefficient (Schulman et al. 2017, Sec. 4; RLlib's
    `PPOTorchLearner._update_module_kl_coeff`): x1.5 where the update's (last minibatch's) mean KL exceeded
    2 * kl_target, x0.5 where it stayed under kl_target / 2, else unchanged. A nan KL leaves it.
    (As RLlib's, a beta halved ~1,000 times reaches 0 and stays there.)"""
    if mean_kl > 2.0 * kl_target:
        return kl_coeff * 1.5
    if mean_kl < 0.5 * kl_target:
        return kl_coeff * 0.5
    return kl_coeff


def clip_gradients_by_global_norm_foreach(gradients_dict: Dict[Any, Optional[torch.Tensor]], *, grad_clip: float,
                                          grad_clip_by: str):
    """RLlib's `clip_gradients` (ray.rllib.utils.torch_utils), with its global-norm case in
    torch's multi-tensor ops: the same norms (each tensor's, nan/inf mapped as RLlib maps
    them) and the same scaling, bit for bit, in two calls instead of two per tensor (four
    networks' clipping took about a tenth of a clipped-update step). Other cases: RLlib's.
    Returns the global norm (a 0-d tensor), as RLlib's does."""
    grads = [g for g in gradients_dict.values() if g is not None]
    if grad_clip_by != "global_norm" or not grads:
        return clip_gradients(gradients_dict, grad_clip=grad_clip, grad_clip_by=grad_clip_by)
    (total_norm,), _ = clip_networks_by_global_norm_foreach([grads], grad_clip=grad_clip)
    return total_norm


def clip_networks_by_global_norm_foreach(grads_per_network, *, grad_clip: float):
    """Each network's gradients (a list of tensors per network) clipped in place by that
    network's global norm, as RLlib's `clip_gradients` (grad_clip_by="global_norm") would clip
    them one network at a time (its nan/inf norms mapped as RLlib maps them), with one
    multi-tensor norm over all networks.

    Returns (the networks' global norms, 0-d tensors in order, 0 for a network with no
    gradient; a 0-d bool tensor: every tensor's norm was finite before clipping, i.e. no
    element is nan or inf)."""
    flat = [g.detach() for grads in grads_per_network for g in grads]
    if not flat:
        return [torch.zeros(()) for _ in grads_per_network], torch.tensor(True)
    raw = torch.stack(torch._foreach_norm(flat, 2.0))
    finite = torch.isfinite(raw).all()
    raw = raw.nan_to_num(neginf=-10e8, posinf=10e8)
    norms, start = [], 0
    for grads in grads_per_network:
        if not grads:
            norms.append(torch.zeros((), device=raw.device))
            continue
        end = start + len(grads)
        total_norm = torch.norm(raw[start:end], 2.0).nan_to_num(neginf=-10e8, posinf=10e8)
        clip_coeff = torch.clamp(grad_clip / torch.clamp(total_norm + 1e-6, min=grad_clip), max=1.0)
        torch._foreach_mul_(flat[start:end], clip_coeff)
        norms.append(total_norm)
        start = end
    return norms, finite


def surrogate_terms(module, batch: Dict[str, Any], fwd_out: Dict[str, TensorType], *, estimator: str,
                    gamma: float, alpha1: float, alpha2: float, alpha3: float,
                    normalizer: float, clip_param=None,
                    ratio_stats_out: Optional[Dict[str, TensorType]] = None,
                    kl_coeff: float = 0.0) -> Dict[str, TensorType]:
    """Evaluates the networks' outputs as the chosen estimator needs and returns its terms.

    `clip_param` (update="clipped") clips the score terms; their old densities are the env
    runners' `action_logp` and the learner's pre-update `embedding_logp_old`. With it,
    `ratio_stats_out` (a dict) receives, as "policy" and "embedding", a zero-argument function
    of each ratio's `ratio_stats` (its KL and clip fraction; called only where they are read).
    `kl_coeff` > 0 (with `clip_param`) adds the KL penalty on pi against the env runners'
    action distribution (`ACTION_DIST_INPUTS`), and its batch mean (a 0-d tensor) as `mean_kl_loss`.
    """
    if (estimator == "score") != (module.model_config.get("policy_skill") == "sampled"):
        raise ValueError(f"estimator {estimator!r} needs the module's model_config['policy_skill'] = "
                         f"{'sampled' if estimator == 'score' else 'reparameterised'!r} (EmbedPGConfig sets it)")
    dist = module.get_train_action_dist_cls().from_logits(fwd_out[Columns.ACTION_DIST_INPUTS])
    step = batch[C.STEP_IN_SEGMENT].long()
    # Each row's share of its segment's terms (log p(z|t), alpha1 H[p]); hand-built batches
    # without the column give the whole share to the segment's first row.
    share = batch.get(C.SEGMENT_SHARE)
    if share is None:
        share = (step == 0).float()
    z_phi = fwd_out[C.Z_PHI]
    z = batch[C.SAMPLED_SKILL]  # the episode's sampled skill, a constant
    if estimator == "seed":  # log q(z | a_i(theta, phi), s^H)
        log_q = diag_gaussian_log_prob(z, fwd_out[C.Q_MEAN_REPARAM_ACTION], fwd_out[C.Q_LOG_STD_REPARAM_ACTION])
    elif estimator == "score":  # log q(z | a_i, s^H), z and a_i the sampled constants: psi only
        log_q = diag_gaussian_log_prob(z, fwd_out[C.Q_MEAN_SAMPLED_ACTION], fwd_out[C.Q_LOG_STD_SAMPLED_ACTION])
    else:  # log q(z_phi | a_i, s^H)
        log_q = diag_gaussian_log_prob(z_phi, fwd_out[C.Q_MEAN_SAMPLED_ACTION], fwd_out[C.Q_LOG_STD_SAMPLED_ACTION])
    log_pi = dist.logp(batch[Columns.ACTIONS])
    log_p_z = diag_gaussian_log_prob(z, fwd_out[C.EMBEDDING_MEAN], fwd_out[C.EMBEDDING_LOG_STD])
    old_log_pi = batch[Columns.ACTION_LOGP] if clip_param is not None else None
    old_log_p_z = batch[C.EMBEDDING_LOGP_OLD] if clip_param is not None else None
    if clip_param is not None and ratio_stats_out is not None:
        for name, log_prob, old in (("policy", log_pi, old_log_pi), ("embedding", log_p_z, old_log_p_z)):
            ratio_stats_out[name] = functools.partial(ratio_stats, log_prob.detach(), old, clip_param)
    action_kl = None
    if clip_param is not None and kl_coeff:
        # KL(pi_old(.|s, z_old) || pi(.|s, z_phi)), as RLlib's PPO learner computes it.
        action_kl = type(dist).from_logits(batch[Columns.ACTION_DIST_INPUTS]).kl(dist)
        if ratio_stats_out is not None:
            ratio_stats_out["mean_kl_loss"] = action_kl.detach().mean()
    return embed_pg_surrogate(
        estimator=estimator,
        log_pi=log_pi,
        policy_weight=batch[C.POLICY_WEIGHT],
        log_p_z=log_p_z,
        embedding_weight=batch[C.EMBEDDING_WEIGHT],
        log_q=log_q,
        policy_entropy=dist.entropy(),
        discount=gamma ** step.float(),
        all_tasks_log_std=fwd_out[C.ALL_TASKS_EMBEDDING_LOG_STD],
        alpha1=alpha1, alpha2=alpha2, alpha3=alpha3,
        normalizer=normalizer,
        segment_share=share,
        clip_param=clip_param,
        old_log_pi=old_log_pi,
        old_log_p_z=old_log_p_z,
        pathwise_scale=batch.get(C.PATHWISE_SCALE),  # absent in hand-built batches: 1
        action_kl=action_kl,
        kl_coeff=kl_coeff,
    )
