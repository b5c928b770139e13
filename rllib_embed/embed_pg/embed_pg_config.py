"""EmbedPGConfig: every hyper-parameter of the method, with defaults and validation."""

from numbers import Integral
from typing import Any, Dict, List, Optional, Union

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig, NotProvided
from ray.rllib.connectors.common.batch_individual_items import BatchIndividualItems
from ray.rllib.core.rl_module.rl_module import RLModuleSpec

from rllib_embed.embed_pg.config_checks import (check_env_config, check_env_config_type, check_fields,
                                                check_no_unset_marker)
from rllib_embed.embed_pg.connectors.normalize_observations import NormalizeObservations
from rllib_embed.embed_pg.connectors.sample_skill_noise import SampleSkillNoise
from rllib_embed.embed_pg.losses import ESTIMATORS, UPDATES
from rllib_embed.embed_pg.task_assignment import sampling_envs

RETURNS = ("reward_to_go", "segment")
ADVANTAGES = (None, "returns", "gae")
BASELINES = (None, "value")
EMBEDDING_BASELINES = (None, "task_mean")
ACTIVATIONS = ("tanh", "relu", "elu", "linear")
# model_config keys copied as they are; each net's widths go through resolved_hiddens.
_NETWORK_KEYS = ("history_len", "activation")  # latent_dim: resolved_latent_dim
MIN_LATENT_DIM = 4  # latent_dim=None resolves to max(MIN_LATENT_DIM, K)
_NETS = ("policy", "embedding", "inference", "value")
_WIDTHS_BY_UPDATE = ("policy_hiddens", "value_hiddens")  # None: the update's default widths


class EmbedPGConfig(AlgorithmConfig):
    """Configuration of EmbedPG.

    .. testcode::

        from rllib_embed import EmbedPGConfig
        config = (EmbedPGConfig()
                  .environment("rllib_embed/PointGoals-v0", env_config={"num_tasks": 4})
                  .training(latent_dim=4, history_len=4, alpha1=0.01, alpha2=0.01, alpha3=0.01))
        algo = config.build_algo()
        algo.train()

    The method's symbols: K = `num_tasks`, D = `copies_per_task`,
    I = `rollout_fragment_length` (steps each env samples per gradient step),
    H = `history_len`, alpha1..3 = `alpha1`..`alpha3`, gamma = `gamma`.
    """

    def __init__(self, algo_class=None):
        if algo_class is None:
            from rllib_embed.embed_pg.embed_pg import EmbedPG
            algo_class = EmbedPG
        super().__init__(algo_class=algo_class)
        # The method.
        self.latent_dim = None  # None: max(MIN_LATENT_DIM, K) (resolved_latent_dim)
        self.history_len = 4
        self.alpha1 = 0.01  # embedding entropy H[p(z|t)]
        self.alpha2 = 0.01  # log q(z|a,s^H) in the reward
        self.alpha3 = 0.01  # policy entropy H[pi(.|s,z)] in the reward
        self.estimator = "seed"
        self.returns = "reward_to_go"
        self.baseline = "value"
        self.embedding_baseline = "task_mean"
        self.num_tasks = None  # K: None = from env_config["num_tasks"] or the env itself
        self.copies_per_task = 1  # D
        # Running mean/std normalisation of the env's `obs` (not the task one-hot), as
        # RLlib's MeanStdFilter; what MuJoCo bodies need to learn at all (docs/learning.md).
        self.normalize_observations = False
        # Networks.
        self.policy_hiddens = None  # None: the update's default (resolved_hiddens)
        self.embedding_hiddens = []
        self.inference_hiddens = [64, 64]
        self.value_hiddens = None
        self.embedding_init_log_std = None  # None: the update's default (resolved_embedding_init_log_std)
        self.policy_init_log_std = None  # None: POLICY_INIT_LOG_STD (resolved_policy_init_log_std)
        self.activation = "tanh"
        # Optimisation: one Adam per network; None = `lr`.
        self.lr = 1e-3
        self.policy_lr = None
        self.embedding_lr = None
        self.inference_lr = None
        self.value_lr = None
        self.vf_loss_coeff = 1.0
        self.vf_clip_param = None  # clip each row's squared value error at this (RLlib's PPO: 10); None: not
        # Each network's gradient is rescaled to norm <= 1 (its direction kept): Adam's
        # running scale lags a sudden large score-function gradient, which without this
        # can undo a learned policy in one step. None gives the literal gradient step.
        self.grad_clip = 1.0
        # Log each network's gradient norm (before clipping): gradients_<net>_global_norm.
        self.log_gradients = True
        self.value_epochs = 10  # passes over each batch that fit V (the first num_epochs also step the rest)
        self.gamma = 0.99
        self.num_epochs = None  # None: 1 for the literal update, 10 for the clipped one (PPO's MuJoCo setting)
        # The update (docs/learning.md): "literal", the derivation's one step per batch, or
        # "clipped", PPO's clipped ratio on the score terms over num_epochs x minibatches.
        self.update = "literal"
        self.advantages = None  # None: "returns" (literal) / "gae" (clipped)
        self.lambda_ = 0.95  # GAE's lambda (advantages="gae")
        self.clip_param = 0.2  # PPO's epsilon (update="clipped")
        self.shuffle_batch_per_epoch = True  # clipped: minibatches of rows shuffled anew each epoch (PPO's)
        self.normalize_advantages = None  # None: "per_task" for the clipped update, False for the literal one
        self.target_kl = None  # clipped: stop a batch's epochs once a minibatch's KL(pi_old||pi) exceeds it
        self.kl_coeff = 0.0  # clipped: PPO's adaptive KL penalty, off at 0 (RLlib's PPO: 0.2)
        self.kl_target = 0.01  # the mean KL the penalty's coefficient is adapted towards (RLlib's PPO: 0.01)
        # Sampling: I steps from every env (one more or fewer where a reset fell inside), one round per step.
        self.rollout_fragment_length = 50
        self.batch_mode = "truncate_episodes"
        self.episode_lookback_horizon = max(1, self.history_len - 1)
        self.env_runner_cls = _env_runner_cls()
        self.callbacks_class = _callbacks_cls()
        # Fault tolerance (docs/reliability.md): an env that raises in step() is recreated,
        # with its task, instead of stopping training (RLlib's default is False); lost
        # remote env runners are restarted with theirs (RLlib's default, kept).
        self.restart_failed_sub_environments = True
        # Torch threads of the process that builds the algorithm where the local learner or env
        # runner runs in it (None: torch's own setting): EmbedPG.setup.
        self.local_torch_threads = 1

    def training(
        self, *,
        latent_dim=NotProvided, history_len=NotProvided,
        alpha1=NotProvided, alpha2=NotProvided, alpha3=NotProvided,
        estimator=NotProvided, returns=NotProvided, baseline=NotProvided, embedding_baseline=NotProvided,
        num_tasks=NotProvided, copies_per_task=NotProvided, normalize_observations=NotProvided,
        policy_hiddens=NotProvided, embedding_hiddens=NotProvided, inference_hiddens=NotProvided,
        value_hiddens=NotProvided, activation=NotProvided, embedding_init_log_std=NotProvided,
        policy_init_log_std=NotProvided,
        policy_lr=NotProvided, embedding_lr=NotProvided, inference_lr=NotProvided, value_lr=NotProvided,
        vf_loss_coeff=NotProvided, vf_clip_param=NotProvided, value_epochs=NotProvided,
        update=NotProvided, advantages=NotProvided, lambda_=NotProvided, clip_param=NotProvided,
        normalize_advantages=NotProvided, target_kl=NotProvided, kl_coeff=NotProvided, kl_target=NotProvided,
        local_torch_threads=NotProvided,
        **kwargs,
    ) -> "EmbedPGConfig":
        """Sets EmbedPG's hyper-parameters (plus any of `AlgorithmConfig.training`'s).

        Args:
            latent_dim: dimension of the skill space z. None (default): max(4, K)
                (`resolved_latent_dim`): with latent_dim >= K the K skills start
                orthogonal, equally far apart (measured in docs/learning.md, "What mattered").
            history_len: H, the number of most recent observations q sees.
            alpha1: weight of the embedding entropy alpha1 * E_t H[p(z|t)].
            alpha2: weight of alpha2 * log q(z | a, s^H) in the reward.
            alpha3: weight of alpha3 * H[pi(.|s, z)] in the reward.
            estimator: "seed" (the derivation's formulas, literally), "unbiased"
                (re-parameterised z, sampled actions held constant inside q, no
                log p(z|t) score term) or "score" (z and the actions the sampled
                constants, log p(z|t) and log pi score terms, log q trains q alone);
                see docs/estimator.md.
            returns: weight of log pi: "reward_to_go" (R_i) or "segment" (R).
            baseline: None or "value" (a learned V(s, z) subtracted from log pi's weight).
            embedding_baseline: None or "task_mean" (mean return of the other segments
                of the same task, subtracted from log p(z|t)'s weight).
            num_tasks: K. None: env_config["num_tasks"], else the env's own count.
            copies_per_task: D, environments per task.
            normalize_observations: normalise the env's `obs` by running mean and std
                (RLlib's MeanStdFilter on `obs` only; the statistics are merged across env
                runners every iteration and kept in checkpoints). The task one-hot is
                left as it is. Recommended for MuJoCo and Meta-World bodies.
            policy_hiddens, embedding_hiddens, inference_hiddens, value_hiddens: MLP sizes
                (lists of layer widths). policy_hiddens and value_hiddens None: the update's
                default, [64, 64] for the literal update, [256, 256] for the clipped one
                (RLlib's default `fcnet_hiddens`, which its PPO uses; see `resolved_hiddens`).
            activation: "tanh", "relu", "elu" or "linear" (RLlib's `fcnet_activation` names).
            embedding_init_log_std: None or a float in [-5, 2]: the log-std every task's
                p(z|t) starts at (the means start orthogonal, 2*sqrt(2) apart). None: the
                update's default, -1 (std 0.37) literal, -2 (std 0.14) clipped; see
                `resolved_embedding_init_log_std`.
            policy_init_log_std: None or a float in [-5, 2]: the log-std of pi's Gaussian
                actions at the start (continuous actions; its output bias), capped by the
                action range's bound (`policy_log_std_max`). None: -0.5 (std 0.61). 0 (std 1)
                is RLlib's PPO's start: on Meta-World (MT1, MT10), whose returns stalled while
                the policy's entropy fell, it learned more tasks; on HalfCheetah and Ant it did
                worse (docs/learning.md, "The policy's starting std").
            policy_lr, embedding_lr, inference_lr, value_lr: per-network learning
                rates; None uses `lr`.
            vf_loss_coeff: weight of V's squared error.
            vf_clip_param: None (default) or > 0: each row's squared value error is clipped at
                this value, as RLlib's PPO does (its default 10).
            value_epochs: passes over each batch that fit V (update="literal"). Passes
                beyond `num_epochs` fit V alone; the batch's weights were computed before
                them, so the estimator keeps its expectation while the baseline improves.
            update: "literal" (default: the derivation's gradient, `num_epochs` full-batch
                steps) or "clipped" (PPO's clipped ratio, Schulman et al. 2017 eq. 7, on the
                log pi and log p(z|t) score terms; `num_epochs` epochs over minibatches of
                `minibatch_size` rows of whole segments; V fitted in the same steps). See
                docs/learning.md for the recommended robot settings.
            advantages: weight of the score terms. "returns": the literal segment returns
                (`returns`, `baseline`); "gae": GAE(gamma, lambda_) over r_hat with V
                bootstrapped where a segment is cut or truncated (needs baseline="value").
                None: "returns" for the literal update, "gae" for the clipped one.
            lambda_: GAE's lambda in [0, 1] (advantages="gae").
            clip_param: PPO's clip epsilon > 0 (update="clipped").
            normalize_advantages: standardise both score weights: True over each batch (as
                RLlib's PPO), "per_task" within each task's rows (tasks whose rewards differ
                in scale, e.g. HalfCheetahDir's directions, keep their own signal), False not.
                None: "per_task" for the clipped update, False for the literal one. The
                pathwise terms (alpha1..3) are divided by the same standard deviation, so
                the alphas keep their weight relative to the reward (docs/equations.md).
            target_kl: None or > 0 (update="clipped"): once a minibatch's estimated
                KL(pi_old || pi) exceeds it, the batch's remaining minibatches are skipped.
            kl_coeff: >= 0 (update="clipped"; 0: off, the default): the starting weight beta
                of PPO's adaptive KL penalty, beta * KL(pi_old(.|s,z_old) || pi(.|s,z_phi)) per
                row, subtracted from the surrogate on the score term's scale (Schulman et al.
                2017, eq. 8; RLlib's PPO: `kl_coeff`=0.2 with `use_kl_loss`). After each
                update beta is multiplied by 1.5 where its last minibatch's mean KL exceeded
                2 * kl_target and by 0.5 where it stayed under kl_target / 2, as RLlib's PPO
                does; beta is part of the learner's checkpointed state.
            kl_target: > 0: the mean KL per update the penalty's beta is adapted towards.
            local_torch_threads: torch threads (int >= 1) of the process that builds the
                algorithm where its learner or env runner runs in it (num_learners=0 or
                num_env_runners=0): 1 by default, as Ray gives each of its workers; None leaves
                torch's setting (one thread per core), which is slower for these small networks
                wherever the machine is busy.
            minibatch_size (RLlib's): update="clipped" only: None or an int >=
                rollout_fragment_length, in rows; minibatches hold whole segments. None: a
                quarter of the batch in whole segments, I * ceil(K*D / 4) (docs/learning.md's
                recipe: 200 of 800 rows on HalfCheetahDir, 250 of 1,000 on PointGoals K=4).
            num_epochs (RLlib's): passes over each batch; None: 1 for the literal update
                (the derivation's one step), 10 for the clipped one (PPO's).
        """
        super().training(**kwargs)
        for name, value in list(locals().items()):
            if name not in ("self", "kwargs", "__class__") and value is not NotProvided:
                setattr(self, name, value)
        if history_len is not NotProvided and isinstance(history_len, Integral):
            # s^H looks H-1 steps back, also into the previous segment of the episode.
            self.episode_lookback_horizon = max(self.episode_lookback_horizon, history_len - 1)
        return self

    def environment(self, env=NotProvided, *, env_config=NotProvided, **kwargs) -> "EmbedPGConfig":
        """AlgorithmConfig.environment; env_config must be a dict (None: left as it is), else ValueError."""
        if env_config is not NotProvided:
            check_env_config_type(env_config)  # before RLlib's deep_update, which fails on a non-dict
        return super().environment(env, env_config=NotProvided if env_config is None else env_config, **kwargs)

    # ---- resolved values ---------------------------------------------------------------
    @classmethod
    def from_ppo(cls, ppo_config, *, copies_per_task: Optional[int] = None) -> "EmbedPGConfig":
        """EmbedPG's clipped update at a PPO config's settings for the same body: env, env
        runners, batch, minibatches, epochs, gamma, lambda_, lr, clip, gradient clipping, value
        loss, KL penalty, network widths and activation, observation filter, seed.

        See `rllib_embed.embed_pg.from_ppo.embedpg_from_ppo` for what is taken and how K*D
        and I follow from PPO's env count and batch; raises ValueError (one line) where the
        PPO config cannot be carried over.
        """
        from rllib_embed.embed_pg.from_ppo import embedpg_from_ppo
        return embedpg_from_ppo(ppo_config, copies_per_task=copies_per_task)

    @property
    def resolved_num_tasks(self) -> Optional[int]:
        """K from the config or env_config; None until the env tells."""
        return self.num_tasks if self.num_tasks is not None else (self.env_config or {}).get("num_tasks")

    @property
    def resolved_advantages(self) -> str:
        """"returns" or "gae": `advantages`, or the update's default where it is None."""
        return self.advantages or ("gae" if self.update == "clipped" else "returns")

    @property
    def resolved_normalize_advantages(self) -> Union[bool, str]:
        """`normalize_advantages`, or the update's default (clipped: "per_task") where it is None."""
        if self.normalize_advantages is None:
            return "per_task" if self.update == "clipped" else False
        return self.normalize_advantages

    @property
    def resolved_num_epochs(self) -> int:
        """`num_epochs`, or the update's default (literal: 1, clipped: 10) where it is None."""
        if self.num_epochs is None:
            return 10 if self.update == "clipped" else 1
        return self.num_epochs

    def resolved_hiddens(self, name: str) -> List[int]:
        """Layer widths of network `name` ("policy", "embedding", "inference", "value").

        Where policy_hiddens / value_hiddens is None: [256, 256] for update="clipped" (RLlib's
        default fcnet_hiddens, as its PPO, against which the clipped update is measured; the
        comparison with [64, 64] is in docs/learning.md) and [64, 64] for the literal update
        (the quickstart's).
        """
        value = getattr(self, f"{name}_hiddens")
        if value is None:
            return [256, 256] if self.update == "clipped" else [64, 64]
        return list(value)

    @property
    def resolved_policy_init_log_std(self) -> float:
        """`policy_init_log_std`, or where it is None the module's POLICY_INIT_LOG_STD (-0.5)."""
        if self.policy_init_log_std is None:
            from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import POLICY_INIT_LOG_STD
            return POLICY_INIT_LOG_STD
        return float(self.policy_init_log_std)

    @property
    def resolved_latent_dim(self) -> int:
        """`latent_dim`, or where it is None max(MIN_LATENT_DIM, K), K as far as known (validate()
        sets num_tasks from the env where neither the config nor env_config gives it)."""
        if self.latent_dim is not None:
            return self.latent_dim
        return max(MIN_LATENT_DIM, self.resolved_num_tasks or 0)

    @property
    def resolved_embedding_init_log_std(self) -> float:
        """`embedding_init_log_std`, or where it is None the update's: -2 clipped, -1 literal.

        The clipped update tells the skills apart from its first batches at std 0.14 (exp(-2));
        the literal update keeps 0.37 (exp(-1)), where 0.14 did not help (both measured in
        docs/learning.md).
        """
        if self.embedding_init_log_std is None:
            return -2.0 if self.update == "clipped" else -1.0
        return float(self.embedding_init_log_std)

    @property
    def resolved_minibatch_size(self) -> Optional[int]:
        """Rows per minibatch: the clipped update's `minibatch_size`, or where it is None a quarter
        of the batch's K*D*I rows (rounded up); None (the whole batch) for the literal update."""
        if self.update != "clipped":
            return None
        if self.minibatch_size is not None:
            return self.minibatch_size
        rows = (self.num_tasks or 1) * self.copies_per_task * self.rollout_fragment_length
        return -(-rows // 4)

    @property
    def minibatch_settings(self) -> Dict[str, Any]:
        """`LearnerGroup.update`'s minibatch arguments: the clipped update's minibatches of
        shuffled rows (RLlib's `MiniBatchCyclicIterator`, as its PPO), none for the literal one."""
        if self.update != "clipped":
            return {}
        return {"minibatch_size": self.resolved_minibatch_size, "shuffle_batch_per_epoch": self.shuffle_batch_per_epoch}

    @property
    def learner_passes(self) -> int:
        """RLlib epochs over each batch: num_epochs full ones. The passes that fit V alone (up to
        value_epochs) run inside the learner's last full pass; with several (DDP) learners they
        stay RLlib epochs, so that DDP all-reduces their gradients."""
        if self.num_learners > 1 and self.update == "literal":
            return max(self.resolved_num_epochs, self.value_epochs if self.baseline == "value" else 1)
        return self.resolved_num_epochs

    @property
    def lrs(self) -> Dict[str, float]:
        """Learning rate of each network's optimizer."""
        return {net: getattr(self, f"{net}_lr") or self.lr for net in ("policy", "embedding", "inference", "value")}

    # ---- RLlib hooks -----------------------------------------------------------------------
    def get_default_rl_module_spec(self) -> RLModuleSpec:
        from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import EmbedPGTorchRLModule
        return RLModuleSpec(module_class=EmbedPGTorchRLModule)

    def get_default_learner_class(self):
        from rllib_embed.embed_pg.torch.embed_pg_torch_learner import EmbedPGTorchLearner
        return EmbedPGTorchLearner

    @property
    def _model_config_auto_includes(self) -> Dict[str, Any]:
        # normalize_observations too: a module that was trained on normalised inputs knows it
        # and refuses to run without its statistics (observation_statistics.py); normalize_actions:
        # the units of the policy's actions, which bound its std.
        return super()._model_config_auto_includes | {k: getattr(self, k) for k in _NETWORK_KEYS + (
            "normalize_observations", "normalize_actions")} | {"latent_dim": self.resolved_latent_dim} | {
            f"{net}_hiddens": self.resolved_hiddens(net) for net in _NETS} | {
            "embedding_init_log_std": self.resolved_embedding_init_log_std,
            "policy_init_log_std": self.resolved_policy_init_log_std,
            # forward_train runs only the q pass the estimator's log q needs.
            "inference_passes": ["reparameterised" if self.estimator == "seed" else "sampled"],
            # The score estimator's pi takes the episode's sampled z, a constant.
            "policy_skill": "sampled" if self.estimator == "score" else "reparameterised"}

    def build_env_to_module_connector(self, env=None, spaces=None, device=None):
        pipeline = super().build_env_to_module_connector(env=env, spaces=spaces, device=device)
        # Before batching, so the per-episode noise lines up with each episode's row.
        pipeline.insert_before(BatchIndividualItems, SampleSkillNoise(latent_dim=self.resolved_latent_dim))
        if self.normalize_observations:
            # First: it rewrites the episodes' observations, which the later pieces read.
            pipeline.prepend(NormalizeObservations())
        return pipeline

    def get_state(self) -> Dict[str, Any]:
        """RLlib's `get_state`, keeping the fields set to -1 that RLlib's drops as "not set" (its
        `DEPRECATED_VALUE`): `build_algo()` goes through it before `validate()`, which would then
        never see them and run with their defaults instead. Here validate() judges them."""
        from rllib_embed.embed_pg.config_checks import fields_rllib_would_drop
        state = super().get_state()
        for name in fields_rllib_would_drop(self):
            state[name] = getattr(self, name)
        return state

    def validate(self) -> None:
        check_fields(self)  # every numeric field: type, range, finite (config_checks.FIELDS)
        check_no_unset_marker(self)  # -1 in a field the table does not judge
        # Before env_config["num_tasks"] is read; K of a package env, as built for the check.
        env_tasks = None if self.in_evaluation else check_env_config(self)
        super().validate()
        self._validate_method()
        if not self.in_evaluation:  # evaluation samples whole episodes, from any runner count
            self._validate_sampling(env_tasks)

    def _validate_method(self) -> None:
        # Numeric fields' types and ranges: config_checks.FIELDS, checked first in validate().
        _check_choice(self, "estimator", ESTIMATORS)
        _check_choice(self, "returns", RETURNS)
        _check_choice(self, "baseline", BASELINES)
        _check_choice(self, "embedding_baseline", EMBEDDING_BASELINES)
        _check_choice(self, "activation", ACTIVATIONS)
        for name in (f"{net}_hiddens" for net in _NETS):
            value = getattr(self, name)
            if value is None and name in _WIDTHS_BY_UPDATE:
                continue  # the update's default
            if not isinstance(value, (list, tuple)) or not all(isinstance(h, Integral) and h > 0 for h in value):
                allowed = "None or a list" if name in _WIDTHS_BY_UPDATE else "a list"
                raise ValueError(f"EmbedPGConfig.{name} must be {allowed} of positive ints (layer sizes); "
                                 f"got {value!r}")
        if not isinstance(self.normalize_observations, bool):
            raise ValueError("EmbedPGConfig.normalize_observations must be one of [False, True]; "
                             f"got {self.normalize_observations!r}")
        self._validate_update()
        if not self.add_default_connectors_to_learner_pipeline:
            raise ValueError("EmbedPGConfig.add_default_connectors_to_learner_pipeline must be True: EmbedPG's "
                             "learner adds its s^H windows and surrogate weights to that pipeline")
        if self.framework_str != "torch":
            raise ValueError(f"EmbedPGConfig.framework must be 'torch'; got {self.framework_str!r}")
        if not self.enable_rl_module_and_learner:
            raise ValueError("EmbedPG runs on RLlib's new API stack only (enable_rl_module_and_learner=True)")

    def _validate_update(self) -> None:
        """The update's choices and how they combine (lambda_, clip_param, target_kl, kl_coeff,
        kl_target and minibatch_size's ranges are in config_checks.FIELDS)."""
        _check_choice(self, "update", UPDATES)
        _check_choice(self, "advantages", ADVANTAGES)
        if not (self.normalize_advantages in (None, "per_task") or isinstance(self.normalize_advantages, bool)):
            raise ValueError("EmbedPGConfig.normalize_advantages must be one of [None, False, True, 'per_task']; "
                             f"got {self.normalize_advantages!r}")
        if self.resolved_advantages == "gae" and self.baseline != "value":
            raise ValueError("EmbedPGConfig.advantages='gae' needs baseline='value' (GAE's TD errors use V); "
                             f"got baseline={self.baseline!r}")
        if self.update == "literal":
            if self.kl_coeff:
                raise ValueError("EmbedPGConfig.kl_coeff must be 0 with update='literal' (the KL penalty is part of "
                                 f"the clipped update, update='clipped'); got {self.kl_coeff!r}")
            if self.minibatch_size is not None:
                raise ValueError("EmbedPGConfig.minibatch_size must be None with update='literal': each gradient "
                                 "step uses the whole K*D*I batch, as the derivation does (minibatches: "
                                 f"update='clipped'); got {self.minibatch_size!r}")
            return
        if self.num_learners > 1:
            raise ValueError("EmbedPGConfig.update='clipped' runs on one learner (num_learners 0 or 1): the "
                             "learners' minibatch counts would differ and DDP would wait; "
                             f"got num_learners={self.num_learners}")

    def _validate_sampling(self, env_tasks: Optional[int] = None) -> None:
        """The K x D mapping; `env_tasks`: K as check_env_config already read it off the env (or None)."""
        if self.batch_mode != "truncate_episodes":
            raise ValueError("EmbedPGConfig.batch_mode must be 'truncate_episodes' (every env samples "
                             f"I = rollout_fragment_length steps); got {self.batch_mode!r}")
        if self.episode_lookback_horizon < self.history_len - 1:
            # s^H looks H-1 states into the previous segment. `training(history_len=)` raises the
            # horizon itself; a dict (Tune, the rllib command, YAML) sets history_len alone.
            self.episode_lookback_horizon = self.history_len - 1
        if str(self.gym_env_vectorize_mode).upper().split(".")[-1] != "SYNC":
            raise ValueError("EmbedPGConfig.gym_env_vectorize_mode must be 'SYNC' (the env runner sets each "
                             f"env's task); got {self.gym_env_vectorize_mode!r}")
        if (self.env_config or {}).get("flat_obs"):
            raise ValueError("EmbedPGConfig.env_config['flat_obs'] must be false or absent: EmbedPG routes the "
                             "task id to p(z|t) alone through the Dict observation; flat_obs is the baselines' view")
        if self.num_tasks is not None and "num_tasks" in (self.env_config or {}) \
                and self.env_config["num_tasks"] != self.num_tasks:
            raise ValueError(f"EmbedPGConfig.num_tasks={self.num_tasks} differs from "
                             f"env_config['num_tasks']={self.env_config['num_tasks']}")
        K = self.resolved_num_tasks if self.resolved_num_tasks is not None else env_tasks
        if K is None and self.env is not None:
            # Without K the mapping cannot be checked (nor the local runner sized): ask the env.
            from rllib_embed.embed_pg.env_factory import count_tasks
            K = count_tasks(self.env, self.env_config)
        if K is None:
            return
        self.num_tasks = K
        rows = K * self.copies_per_task * self.rollout_fragment_length
        if self.update == "clipped" and self.minibatch_size is not None and self.minibatch_size > rows:
            raise ValueError(f"EmbedPGConfig.minibatch_size must be None or an int <= the batch's K*D*I = "
                             f"{K}*{self.copies_per_task}*{self.rollout_fragment_length} = {rows} rows; "
                             f"got {self.minibatch_size}")
        if self.num_learners > K:
            raise ValueError(f"EmbedPGConfig.num_learners must be <= num_tasks ({K}): each learner trains on "
                             f"whole tasks (all D copies of a task); got {self.num_learners}")
        n_envs = K * self.copies_per_task
        if self.num_env_runners == 0 and self.num_envs_per_env_runner == 1:
            self.num_envs_per_env_runner = n_envs  # the local runner hosts all K*D
        got = sampling_envs(self.num_env_runners, self.num_envs_per_env_runner)
        if got != n_envs:
            raise ValueError(
                f"EmbedPG needs K*D = {K}*{self.copies_per_task} = {n_envs} sampling environments, but "
                f"num_env_runners={self.num_env_runners} x num_envs_per_env_runner={self.num_envs_per_env_runner} "
                f"gives {got}. Allowed: num_env_runners * num_envs_per_env_runner == {n_envs} "
                f"(e.g. num_env_runners={n_envs}, or num_env_runners=0 with num_envs_per_env_runner={n_envs}).")


def _check_choice(config, name: str, allowed) -> None:
    value = getattr(config, name)
    if value not in allowed:
        raise ValueError(f"EmbedPGConfig.{name} must be one of {list(allowed)}; got {value!r}")


def _env_runner_cls():
    from rllib_embed.embed_pg.env_runner import EmbedPGEnvRunner
    return EmbedPGEnvRunner


def _callbacks_cls():
    from rllib_embed.embed_pg.callbacks import EmbedPGCallbacks
    return EmbedPGCallbacks
