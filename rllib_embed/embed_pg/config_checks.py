"""Type, range and finiteness checks of EmbedPGConfig's numeric fields (one table) and env_config.

`check_fields(config)` runs first in `EmbedPGConfig.validate()`, so a bad value is refused
with one line naming the field and its allowed values, whether it came from Python, a Tune
param_space dict or the `rllib` command, before RLlib's own checks (some of which raise a
bare TypeError on a wrong type) and before any work starts. NaN and +-inf are refused
everywhere (`nan >= 0` and `nan < 0` are both False, so every range test is written as
"inside", never as "not outside").

To check a new field add one `Field` row to `FIELDS`; a row whose field the config lacks
(e.g. one not yet added) is skipped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from types import SimpleNamespace
from typing import Any, Optional, Tuple

from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import LOG_STD_MAX, LOG_STD_MIN

INT, REAL, LR = "int", "real", "lr"  # LR: a number, or RLlib's schedule [[timestep, value], ...]


@dataclass(frozen=True)
class Field:
    """One checked field: kind, closed range [low, high] (None: unbounded), strict lower bound."""
    name: str
    kind: str
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False  # low < value instead of low <= value
    optional: bool = False  # None allowed


FIELDS: Tuple[Field, ...] = (
    # The method (docs/equations.md).
    Field("latent_dim", INT, 1, optional=True),  # None: max(4, K), EmbedPGConfig.resolved_latent_dim
    Field("history_len", INT, 1),
    Field("alpha1", REAL, 0.0),
    Field("alpha2", REAL, 0.0),
    Field("alpha3", REAL, 0.0),
    Field("gamma", REAL, 0.0, 1.0),
    Field("num_tasks", INT, 1, optional=True),
    Field("copies_per_task", INT, 1),
    Field("embedding_init_log_std", REAL, LOG_STD_MIN, LOG_STD_MAX, optional=True),  # the module's log-std bounds
    Field("policy_init_log_std", REAL, LOG_STD_MIN, LOG_STD_MAX, optional=True),
    # Optimisation (RLlib's lr, grad_clip, num_epochs; EmbedPG's per-network lrs).
    Field("lr", LR, 0.0, low_open=True),
    Field("policy_lr", LR, 0.0, low_open=True, optional=True),
    Field("embedding_lr", LR, 0.0, low_open=True, optional=True),
    Field("inference_lr", LR, 0.0, low_open=True, optional=True),
    Field("value_lr", LR, 0.0, low_open=True, optional=True),
    Field("vf_loss_coeff", REAL, 0.0),
    Field("vf_clip_param", REAL, 0.0, low_open=True, optional=True),
    Field("grad_clip", REAL, 0.0, low_open=True, optional=True),
    Field("num_epochs", INT, 1, optional=True),
    Field("value_epochs", INT, 1),
    # The clipped update and GAE (docs/learning.md); minibatch_size >= I is checked in validate().
    Field("lambda_", REAL, 0.0, 1.0),
    Field("clip_param", REAL, 0.0, low_open=True),
    Field("target_kl", REAL, 0.0, low_open=True, optional=True),
    Field("kl_coeff", REAL, 0.0),
    Field("kl_target", REAL, 0.0, low_open=True),
    Field("minibatch_size", INT, 1, optional=True),
    # Sampling and RLlib's runtime.
    Field("rollout_fragment_length", INT, 1),
    Field("episode_lookback_horizon", INT, 0),
    Field("num_env_runners", INT, 0),
    Field("num_envs_per_env_runner", INT, 1),
    Field("num_learners", INT, 0),
    Field("local_torch_threads", INT, 1, optional=True),
    Field("num_cpus_per_env_runner", REAL, 0.0),
    Field("sample_timeout_s", REAL, 0.0, low_open=True, optional=True),
    Field("metrics_num_episodes_for_smoothing", INT, 1),
    Field("seed", INT, 0, 2**32 - 1, optional=True),  # numpy's seed range
)
_MISSING = object()


def check_fields(config, fields: Tuple[Field, ...] = FIELDS, owner: Optional[str] = None) -> None:
    """Raises ValueError (one line: field, allowed values, the value) for the first bad field."""
    owner = owner or type(config).__name__
    for field in fields:
        value = getattr(config, field.name, _MISSING)
        if value is _MISSING or (value is None and field.optional):
            continue
        if not _ok(field, value):
            raise ValueError(f"{owner}.{field.name} must be {allowed(field)}; got {_short(value)}")
    check_env_config_type(getattr(config, "env_config", None), owner)


# RLlib's "not set" marker (`DEPRECATED_VALUE`): `AlgorithmConfig.get_state` drops every field
# equal to it. tests/test_rllib_contract.py pins the value.
RLLIB_UNSET = -1


def is_unset_marker(value: Any) -> bool:
    """True for a number equal to RLlib's "not set" marker (-1, -1.0; not True/False)."""
    return isinstance(value, Real) and not isinstance(value, bool) and value == RLLIB_UNSET


def fields_rllib_would_drop(config) -> list:
    """The fields of `config` equal to RLlib's "not set" marker whose default is not: RLlib's
    `get_state` (which `build_algo()` goes through) would drop them, swapping in the default."""
    defaults, names = None, []
    for name, value in vars(config).items():
        if is_unset_marker(value):
            defaults = defaults or type(config)()
            if not is_unset_marker(getattr(defaults, name, None)):
                names.append(name)
    return names


def check_no_unset_marker(config, owner: Optional[str] = None) -> None:
    """Raises ValueError (one line) for a field set to -1 (RLlib's "not set" marker) that the
    table (`FIELDS`) does not judge: RLlib would read it as "not set" and use its default."""
    owner = owner or type(config).__name__
    judged = {field.name for field in FIELDS}
    for name in fields_rllib_would_drop(config):
        if name not in judged:
            raise ValueError(f"{owner}.{name.lstrip('_')} must not be {RLLIB_UNSET}: RLlib reads {RLLIB_UNSET} "
                             f"as 'not set' and would put its default in its place; got {_short(getattr(config, name))}")


def check_env_config_type(env_config: Any, owner: str = "EmbedPGConfig") -> None:
    """env_config must be a dict (None: none given); RLlib would fail on it with an AttributeError."""
    if env_config is not None and not isinstance(env_config, Mapping):
        raise ValueError(f"{owner}.env_config must be a dict (the env creator's keyword "
                         f"arguments); got {_short(env_config)}")


NUM_TASKS = "num_tasks"
_CHECKED_ENV_CONFIGS: dict = {}  # (env id, repr(env_config)) -> K, for this package's envs


def check_env_config(config) -> Optional[int]:
    """env_config's values, checked before validate() reads env_config["num_tasks"].

    This package's envs (`rllib_embed.envs.ENV_IDS`) are built once through their creator,
    which refuses a bad value with one line naming the env_config key (rllib_embed/envs/
    multi_task.py's `config_int`, `config_float`, `config_choice`, ...), and
    `num_tasks`, when set, must be their count. Other envs are not built here (their
    creators may be heavy, or live on the workers only): env_config["num_tasks"], when
    given, must be an int >= 1. Raises ValueError.

    Returns K of a package env as built here (so that validate() need not build it again),
    None for other envs.
    """
    env, env_config = getattr(config, "env", None), dict(getattr(config, "env_config", None) or {})
    if env is None:
        return None
    from rllib_embed.envs import ENV_IDS
    if isinstance(env, str) and env in ENV_IDS:
        key = (env, repr(sorted(env_config.items(), key=lambda kv: str(kv[0]))))
        if key not in _CHECKED_ENV_CONFIGS:
            from rllib_embed.embed_pg.env_factory import count_tasks
            if len(_CHECKED_ENV_CONFIGS) >= 256:
                _CHECKED_ENV_CONFIGS.clear()  # a sweep's many env_configs: keep the cache small
            _CHECKED_ENV_CONFIGS[key] = count_tasks(env, env_config)  # the creator's ValueError names the key
        num_tasks = getattr(config, NUM_TASKS, None)
        if num_tasks is not None and num_tasks != _CHECKED_ENV_CONFIGS[key]:
            raise ValueError(f"{type(config).__name__}.num_tasks={num_tasks} differs from the "
                             f"{_CHECKED_ENV_CONFIGS[key]} tasks {env} has with env_config {_short(env_config)}; "
                             f"allowed: None (the env's count) or {_CHECKED_ENV_CONFIGS[key]}")
        return _CHECKED_ENV_CONFIGS[key]
    if NUM_TASKS in env_config:
        view = SimpleNamespace(**{NUM_TASKS: env_config[NUM_TASKS]})
        check_fields(view, (Field(NUM_TASKS, INT, 1),), owner=f"{type(config).__name__}.env_config")
    return None


def allowed(field: Field) -> str:
    """The allowed values in words, e.g. 'a finite number in [0, 1]', 'an int >= 1 or None'."""
    if field.low is not None and field.high is not None:
        text = f"in {'(' if field.low_open else '['}{_num(field.low)}, {_num(field.high)}]"
    elif field.low is not None:
        text = f"{'>' if field.low_open else '>='} {_num(field.low)}"
    else:
        text = ""
    kind = "an int" if field.kind == INT else "a finite number"
    words = f"{kind} {text}".strip()
    if field.kind == LR:
        words += f", or a schedule [[0, {field.name}], [timestep, {field.name}], ...] of such numbers"
    return words + (" or None" if field.optional else "")


def _ok(field: Field, value: Any) -> bool:
    if field.kind == LR and isinstance(value, (list, tuple)):
        return _schedule_ok(field, value)
    if isinstance(value, bool) or not isinstance(value, Integral if field.kind == INT else Real):
        return False
    if not math.isfinite(value):
        return False
    above = field.low is None or (value > field.low if field.low_open else value >= field.low)
    below = field.high is None or value <= field.high
    return above and below


def _schedule_ok(field: Field, schedule) -> bool:
    """RLlib's Scheduler format: >= 2 [timestep, value] pairs, timesteps from 0 and increasing."""
    pairs = [p for p in schedule if isinstance(p, (list, tuple)) and len(p) == 2]
    if len(pairs) < 2 or len(pairs) != len(schedule):
        return False
    steps = [p[0] for p in pairs]
    steps_ok = all(isinstance(t, Integral) and not isinstance(t, bool) for t in steps) and steps[0] == 0 \
        and all(a < b for a, b in zip(steps, steps[1:]))
    number = Field(field.name, REAL, field.low, field.high, field.low_open)
    return steps_ok and all(_ok(number, p[1]) for p in pairs)


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _short(value: Any, limit: int = 120) -> str:
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[:limit] + "..."
