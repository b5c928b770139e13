"""Checkpoint files that load without running code: plain JSON and tensors.

RLlib's checkpoints are pickles (`class_and_ctor_args.pkl`, `module_state.pkl`,
`algorithm_state.pkl`), and unpickling a file can run any code placed in it. Beside RLlib's
own files EmbedPG writes what its readers (`rllib evaluate`, transfer, the pictures) need,
in formats that hold data only:

- in every EmbedPG RLModule folder (an Algorithm checkpoint's
  `learner_group/learner/rl_module/default_policy/`, or `module.save_to_path(...)`):
  `MODULE_FILE` (JSON: the module's constructor arguments, spaces included, and the
  non-tensor part of its state) and `WEIGHTS_FILE` (a dict of tensors, read with
  `torch.load(weights_only=True)`, which refuses anything but tensors and plain containers);
- in every EmbedPG Algorithm checkpoint: `RUN_FILE` (JSON: the algorithm's name, its env
  id and env_config).

Readers build `EmbedPGTorchRLModule` from these files (the class is fixed by the reader, never
named by the file). Spaces: Box, Discrete, MultiDiscrete, MultiBinary, and Dict / Tuple of
them; a module whose spaces or model_config do not fit JSON is saved without these files, and
then only a trusted load (RLlib's unpickling) reads it.

Plain file-system code plus torch and gymnasium: no RLlib, so every layer may import it.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Any, Dict, Optional, Tuple

import gymnasium as gym
import numpy as np

from rllib_embed.embed_pg.checkpoint_files import CheckpointError, describe_error

MODULE_FILE = "embed_pg_module.json"
WEIGHTS_FILE = "embed_pg_weights.pt"
RUN_FILE = "embed_pg_run.json"
FORMAT_VERSION = 1
_TENSOR_REF = "__tensor__"  # {"__tensor__": key, "kind": "numpy" | "torch"}: an entry of WEIGHTS_FILE


class PlainFileError(CheckpointError):
    """A plain checkpoint file that cannot be read back: one line, naming it."""


# --- spaces -----------------------------------------------------------------------------

def space_to_json(space: gym.Space) -> Dict[str, Any]:
    """A JSON-able description of ``space``. Raises TypeError for other space types."""
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "low": _floats(space.low), "high": _floats(space.high),
                "shape": list(space.shape), "dtype": np.dtype(space.dtype).str}
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": np.asarray(space.nvec).tolist()}
    if isinstance(space, gym.spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {key: space_to_json(sub) for key, sub in space.spaces.items()}}
    if isinstance(space, gym.spaces.Tuple):
        return {"type": "Tuple", "spaces": [space_to_json(sub) for sub in space.spaces]}
    raise TypeError(f"{type(space).__name__} spaces have no plain description")


def space_from_json(data: Dict[str, Any]) -> gym.Space:
    """The space ``space_to_json`` described. Raises ValueError / KeyError / TypeError for others."""
    kind = data["type"]
    if kind == "Box":
        shape = tuple(int(n) for n in data["shape"])
        dtype = np.dtype(data["dtype"])
        return gym.spaces.Box(np.asarray([float(x) for x in data["low"]], dtype=dtype).reshape(shape),
                              np.asarray([float(x) for x in data["high"]], dtype=dtype).reshape(shape),
                              shape=shape, dtype=dtype)
    if kind == "Discrete":
        return gym.spaces.Discrete(int(data["n"]), start=int(data.get("start", 0)))
    if kind == "MultiDiscrete":
        return gym.spaces.MultiDiscrete(np.asarray(data["nvec"], dtype=np.int64))
    if kind == "MultiBinary":
        return gym.spaces.MultiBinary(data["n"])
    if kind == "Dict":
        return gym.spaces.Dict({key: space_from_json(sub) for key, sub in data["spaces"].items()})
    if kind == "Tuple":
        return gym.spaces.Tuple([space_from_json(sub) for sub in data["spaces"]])
    raise ValueError(f"unknown space type {kind!r}")


def _floats(array: np.ndarray) -> list:
    """Flat list of floats; infinities as the strings "inf" / "-inf" (JSON has no infinity)."""
    return [float(x) if math.isfinite(x) else str(float(x)) for x in np.asarray(array, dtype=np.float64).ravel()]


# --- module files -----------------------------------------------------------------------

def module_files_data(ctor_kwargs: Dict[str, Any], state: Dict[str, Any]) -> Optional[Tuple[bytes, bytes]]:
    """(MODULE_FILE bytes, WEIGHTS_FILE bytes) of an RLModule's constructor keyword arguments
    (observation_space, action_space, inference_only, learner_only, model_config) and its
    state (tensors and numpy arrays, nested in dicts of plain values); None where a part has
    no plain form (another space type, an object in model_config)."""
    import torch

    tensors: Dict[str, Any] = {}

    def split(value, key):
        if isinstance(value, torch.Tensor):
            tensors[key] = value.detach().cpu().contiguous()
            return {_TENSOR_REF: key, "kind": "torch"}
        if isinstance(value, np.ndarray):
            tensors[key] = torch.from_numpy(np.ascontiguousarray(value).copy())
            return {_TENSOR_REF: key, "kind": "numpy"}
        if isinstance(value, dict):
            return {str(k): split(v, f"{key}/{k}" if key else str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [split(v, f"{key}/{i}") for i, v in enumerate(value)]
        if isinstance(value, np.generic):
            return value.item()
        return value

    try:
        data = {
            "format_version": FORMAT_VERSION,
            "module": "EmbedPGTorchRLModule",
            "observation_space": space_to_json(ctor_kwargs["observation_space"]),
            "action_space": space_to_json(ctor_kwargs["action_space"]),
            "inference_only": bool(ctor_kwargs.get("inference_only", False)),
            "learner_only": bool(ctor_kwargs.get("learner_only", False)),
            "model_config": dict(ctor_kwargs.get("model_config") or {}),
            "state": split(dict(state), ""),
        }
        text = json.dumps(data, indent=1, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError, KeyError):
        return None
    buffer = io.BytesIO()
    torch.save(tensors, buffer)
    return text.encode("utf-8"), buffer.getvalue()


def has_module_files(folder: str | os.PathLike) -> bool:
    return os.path.isfile(os.path.join(folder, MODULE_FILE)) and os.path.isfile(os.path.join(folder, WEIGHTS_FILE))


def read_module_files(folder: str | os.PathLike) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(constructor keyword arguments, state) of the RLModule in ``folder``, read from its plain
    files without unpickling. Raises PlainFileError naming a file that cannot be read back."""
    import torch

    folder = os.fspath(folder)
    module_file, weights_file = os.path.join(folder, MODULE_FILE), os.path.join(folder, WEIGHTS_FILE)
    data = _read_json(module_file)
    if data.get("format_version") != FORMAT_VERSION or data.get("module") != "EmbedPGTorchRLModule":
        raise PlainFileError(f"damaged checkpoint file {module_file}: format_version "
                             f"{data.get('format_version')!r} / module {data.get('module')!r}; this rllib-embed "
                             f"reads format_version {FORMAT_VERSION} of EmbedPGTorchRLModule")
    try:
        tensors = torch.load(weights_file, weights_only=True, map_location="cpu")
    except Exception as e:  # noqa: BLE001  (a damaged or foreign file raises almost anything)
        raise PlainFileError(f"damaged checkpoint file {weights_file}: {describe_error(e)}") from None

    def join(value):
        if isinstance(value, dict) and _TENSOR_REF in value:
            tensor = tensors[value[_TENSOR_REF]]
            return tensor.numpy() if value.get("kind") == "numpy" else tensor
        if isinstance(value, dict):
            return {k: join(v) for k, v in value.items()}
        if isinstance(value, list):
            return [join(v) for v in value]
        return value

    try:
        ctor_kwargs = {
            "observation_space": space_from_json(data["observation_space"]),
            "action_space": space_from_json(data["action_space"]),
            "inference_only": bool(data["inference_only"]),
            "learner_only": bool(data["learner_only"]),
            "model_config": dict(data["model_config"]),
        }
        state = join(data["state"])
    except Exception as e:  # noqa: BLE001
        raise PlainFileError(f"damaged checkpoint file {module_file}: {describe_error(e)}") from None
    return ctor_kwargs, state


# --- run file -----------------------------------------------------------------------------

def run_file_data(algorithm: str, env: Any, env_config: Any) -> bytes:
    """RUN_FILE bytes: the algorithm's name, its env id (None where the env is not a registered
    name) and env_config (None where it does not fit JSON)."""
    try:
        config = json.loads(json.dumps(dict(env_config or {}), allow_nan=False))
    except (TypeError, ValueError):
        config = None
    data = {"format_version": FORMAT_VERSION, "algorithm": algorithm,
            "env": env if isinstance(env, str) else None, "env_config": config}
    return json.dumps(data, indent=1, sort_keys=True).encode("utf-8")


def read_run_file(checkpoint: str | os.PathLike) -> Optional[Dict[str, Any]]:
    """{"algorithm", "env", "env_config"} of an Algorithm checkpoint's RUN_FILE; None where it has
    none. Raises PlainFileError naming a file that cannot be read back."""
    path = os.path.join(os.fspath(checkpoint), RUN_FILE)
    if not os.path.isfile(path):
        return None
    data = _read_json(path)
    if not isinstance(data.get("algorithm"), str) or not isinstance(data.get("env_config", {}), (dict, type(None))):
        raise PlainFileError(f"damaged checkpoint file {path}: no algorithm name or env_config is not an object")
    return data


def write_bytes(path: str, data: bytes, filesystem=None) -> None:
    """``data`` to ``path``: through a pyarrow ``filesystem`` where given, else the local one."""
    if filesystem is not None:
        with filesystem.open_output_stream(path) as f:
            f.write(data)
        return
    with open(path, "wb") as f:
        f.write(data)


def _read_json(path: str) -> Dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise PlainFileError(f"damaged checkpoint file {path}: {describe_error(e)}") from None
    if not isinstance(data, dict):
        raise PlainFileError(f"damaged checkpoint file {path}: not a JSON object")
    return data
