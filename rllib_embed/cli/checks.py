"""Checks an experiment against RLlib before Ray starts: the algorithm exists, the env
exists and builds, every config key is one the algorithm's config class knows, and each
concrete variant of the config passes the config's own `validate()`.

Returns the param space handed to `tune.Tuner`."""

from __future__ import annotations

import contextlib
import copy
import difflib
import logging
import sys
import warnings
from typing import Any, Dict

from rllib_embed.cli.errors import CLIError
from rllib_embed.cli.experiment import Experiment
from rllib_embed.cli.search_space import Space, to_tune, variants

EMBED_PG = "EmbedPG"


def algorithm_class(name: str):
    """The algorithm class RLlib's registry (EmbedPG included) has under `name`."""
    import rllib_embed  # noqa: F401  (registers EmbedPG and the envs)
    from ray.rllib.algorithms.registry import ALGORITHMS

    if name not in ALGORITHMS:
        close = difflib.get_close_matches(name, ALGORITHMS, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise CLIError(f"unknown algorithm {name!r}{hint}; RLlib's registry has: {', '.join(sorted(ALGORITHMS))}")
    algo_cls, _ = ALGORITHMS[name]()  # (class, default config)
    return algo_cls


def check_experiment(experiment: Experiment) -> Dict[str, Any]:
    """The Tune param space of `experiment`; any problem raises CLIError.

    RLlib's and gymnasium's warnings are held back meanwhile: the trial prints them again
    when it builds the same config and env, and a refused command stays one line."""
    with quiet():
        return _check_experiment(experiment)


@contextlib.contextmanager
def quiet():
    logging.disable(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)


def _check_experiment(experiment: Experiment) -> Dict[str, Any]:
    algo_cls = algorithm_class(experiment.algo)
    default = algo_cls.get_default_config()
    _check_keys(experiment, default)
    for env in env_ids(experiment):
        _check_env_exists(env)
    _view_for_baselines(experiment)
    for concrete in _variants(experiment):
        _check_env_builds(concrete["env"], concrete.get("env_config"))
        config = algo_cls.get_default_config()
        try:
            config.update_from_dict(copy.deepcopy(concrete))
            config.validate()
            _check_counts(config)
        except Exception as e:  # noqa: BLE001 - the config class's own message, on one line
            raise CLIError(f"invalid config for {experiment.algo}: {_one_line(e)}") from None
    return to_tune({**experiment.config, "env": experiment.env})


def env_ids(experiment: Experiment) -> list:
    """Every env id the experiment may run: its env, or each value of its space over envs."""
    return list(experiment.env.args) if isinstance(experiment.env, Space) else [experiment.env]


def _variants(experiment: Experiment) -> list:
    """Concrete configs (env included) covering every env and every search-space edge value."""
    return variants({**experiment.config, "env": experiment.env})


# Worker counts RLlib's validate() leaves unchecked; a bad one would leave a trial pending forever.
_COUNTS = {"num_env_runners": 0, "num_envs_per_env_runner": 1, "num_learners": 0}


def _check_counts(config) -> None:
    for name, minimum in _COUNTS.items():
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")


def _check_keys(experiment: Experiment, default) -> None:
    # Attributes and properties (e.g. train_batch_size_per_learner); methods are not config keys.
    known = set(vars(default)) | {"multiagent"} | {
        name for name in dir(type(default)) if isinstance(getattr(type(default), name, None), property)}
    for key in experiment.config:
        attr = type(default)._translate_special_keys(key, warn_deprecated=False)
        if attr not in known:
            names = sorted(k for k in known if not k.startswith("_"))
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise CLIError(f"unknown config key {key!r} for {experiment.algo} ({type(default).__name__}); {hint}"
                           f"keys are the {type(default).__name__} attributes, e.g. lr, gamma, "
                           f"train_batch_size_per_learner, num_env_runners, env_config")


def _check_env_exists(env: str) -> None:
    import gymnasium as gym
    from ray.tune.registry import ENV_CREATOR, _global_registry

    if _global_registry.contains(ENV_CREATOR, env):
        return
    try:
        gym.spec(env)
    except Exception:  # noqa: BLE001 - gymnasium raises several kinds for an unknown id
        from rllib_embed.envs import ENV_IDS, NEW_TASK_ENV_IDS
        raise CLIError(f"unknown env {env!r}: not registered with Ray Tune or gymnasium; "
                       f"this package's envs: {', '.join([*ENV_IDS, *NEW_TASK_ENV_IDS])}; or any gymnasium id (e.g. CartPole-v1)") from None


def _make(env: str, env_config: Any):
    from rllib_embed.embed_pg.env_factory import make_env
    try:
        return make_env(env, env_config)
    except Exception as e:  # noqa: BLE001 - the env's own message names the field
        raise CLIError(f"env {env!r} cannot be built with env_config {env_config!r}: {_one_line(e)}") from None


def _check_env_builds(env: str, env_config: Any) -> None:
    _make(env, env_config).close()


def _view_for_baselines(experiment: Experiment) -> None:
    """Algorithms other than EmbedPG get this package's multi-task envs as one flat Box
    (`env_config.flat_obs: true`): their default modules take no Dict observation."""
    if experiment.algo == EMBED_PG:
        return
    env_config = experiment.config.get("env_config")
    if isinstance(env_config, Space) or (env_config is not None and not isinstance(env_config, dict)):
        return
    from rllib_embed.envs.flat_observation import FLAT_OBS_KEY
    first = variants(experiment.config)[0].get("env_config")
    dict_envs = [env for env in env_ids(experiment) if _is_multi_task_dict(env, first)]
    if not dict_envs or (env_config or {}).get(FLAT_OBS_KEY) is True:
        return
    if (env_config or {}).get(FLAT_OBS_KEY) is False:
        raise CLIError(f"{experiment.algo} cannot take {dict_envs[0]}'s Dict observation {{obs, task}}; "
                       f"set env_config.{FLAT_OBS_KEY}: true (the task id appended to a flat observation)")
    flat_config = {**(first or {}), FLAT_OBS_KEY: True}
    for env in env_ids(experiment):  # every env must take the option and give a flat Box with it
        if not _gives_flat_box(env, flat_config):
            raise CLIError(f"{experiment.algo} cannot take {dict_envs[0]}'s Dict observation {{obs, task}} and env "
                           f"{env!r} does not offer the flat view (env_config.{FLAT_OBS_KEY}); register its creator "
                           f"wrapped in rllib_embed.envs.with_flat_obs_option (docs/multi_task_envs.md)")
    experiment.config["env_config"] = {**(env_config or {}), FLAT_OBS_KEY: True}
    print(f"rllib: note: {experiment.algo} on {', '.join(dict_envs)}: using env_config.{FLAT_OBS_KEY}=true "
          f"(one Box observation with the task id appended; only EmbedPG reads the Dict form)", file=sys.stderr)


def _is_multi_task_dict(env: str, env_config: Any) -> bool:
    instance = _make(env, env_config)
    try:
        return hasattr(instance.unwrapped, "num_tasks") and hasattr(instance.observation_space, "spaces")
    finally:
        instance.close()


def _gives_flat_box(env: str, env_config: Dict[str, Any]) -> bool:
    """Whether `env`'s creator takes env_config.flat_obs and then gives one Box observation."""
    from rllib_embed.embed_pg.env_factory import make_env
    try:
        instance = make_env(env, env_config)
    except Exception:  # noqa: BLE001 - a creator that refuses the key does not offer the view
        return False
    try:
        return not hasattr(instance.observation_space, "spaces")
    finally:
        instance.close()


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def trial_cpus(experiment: Experiment) -> float:
    """The most CPUs one trial of `experiment` asks Ray for (over the config's variants)."""
    algo_cls = algorithm_class(experiment.algo)
    with quiet():
        return _trial_cpus(algo_cls, experiment)


def _trial_cpus(algo_cls, experiment: Experiment) -> float:
    need = 0.0
    for concrete in _variants(experiment):
        config = algo_cls.get_default_config().update_from_dict(copy.deepcopy(concrete))
        bundles = algo_cls.default_resource_request(config).bundles
        need = max(need, sum(bundle.get("CPU", 0) for bundle in bundles))
    return need
