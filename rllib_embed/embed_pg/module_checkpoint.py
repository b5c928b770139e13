"""Loading a trained EmbedPG RLModule out of a checkpoint, without running the checkpoint's code.

Every EmbedPG checkpoint (an Algorithm checkpoint, or an RLModule folder written with
`module.save_to_path`) carries the module's plain files (`plain_files`): JSON and tensors.
`load_module` builds the module from those. A checkpoint without them (written by RLlib
alone or by an older rllib-embed) can only be read by unpickling, which can run any code
placed in it: `load_module` does that only with ``trust_checkpoint=True`` and raises
`UntrustedCheckpointError` otherwise.
"""

import os
from typing import Optional

from ray.rllib.core import (COMPONENT_ENV_RUNNER, COMPONENT_ENV_TO_MODULE_CONNECTOR, COMPONENT_LEARNER,
                            COMPONENT_LEARNER_GROUP, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID)
from ray.rllib.utils.checkpoints import Checkpointable

from rllib_embed.embed_pg.checkpoint_files import UntrustedCheckpointError, load_checked
from rllib_embed.embed_pg.observation_statistics import (STATE_KEY as OBSERVATION_NORMALIZER, ObservationNormalizer,
                                                         module_observation_normalizer)
from rllib_embed.embed_pg.plain_files import MODULE_FILE, has_module_files, read_module_files

# Where an Algorithm checkpoint (algo.save_to_path, Tune) keeps its RLModule.
MODULE_SUBDIR = os.path.join(COMPONENT_LEARNER_GROUP, COMPONENT_LEARNER, COMPONENT_RL_MODULE, DEFAULT_MODULE_ID)


def module_checkpoint_dir(checkpoint: str) -> str:
    """The RLModule folder of ``checkpoint``: an Algorithm checkpoint or an RLModule one.
    Raises ValueError where ``checkpoint`` is not a folder or holds no RLModule."""
    path = os.fspath(checkpoint)
    if not os.path.isdir(path):
        raise ValueError(f"checkpoint: {path!r} is not a directory (give an EmbedPG Algorithm "
                         f"checkpoint, as written by algo.save_to_path or Tune, or its {MODULE_SUBDIR} folder)")
    for candidate in (os.path.join(path, MODULE_SUBDIR), path):
        if any(os.path.isfile(os.path.join(candidate, name))
               for name in (MODULE_FILE, Checkpointable.CLASS_AND_CTOR_ARGS_FILE_NAME)):
            return candidate
    raise ValueError(f"checkpoint: {path!r} holds no RLModule (looked for {MODULE_SUBDIR}/ and for an RLModule "
                     f"checkpoint itself); give an EmbedPG Algorithm checkpoint")


def load_module(checkpoint: str, *, trust_checkpoint: bool = False):
    """The RLModule of an Algorithm checkpoint or of an RLModule folder (`module_checkpoint_dir`),
    with its observation statistics (`module.observation_normalizer`; None where it has none).

    EmbedPG's plain files are read where present (nothing is unpickled); otherwise RLlib's
    `RLModule.from_checkpoint` unpickles the folder, only with ``trust_checkpoint``. Raises
    UntrustedCheckpointError (a CheckpointError, a ValueError) where that is needed but not
    given, CheckpointError naming a damaged file, ValueError where no module is found.
    """
    from rllib_embed.embed_pg.torch.embed_pg_torch_rl_module import EmbedPGTorchRLModule

    path = os.fspath(checkpoint)
    folder = module_checkpoint_dir(path)
    if has_module_files(folder):
        ctor_kwargs, state = read_module_files(folder)
        module = EmbedPGTorchRLModule(**ctor_kwargs)
        module.set_state(state)
        return module
    if not trust_checkpoint:
        raise UntrustedCheckpointError(folder, MODULE_FILE)
    from ray.rllib.core.rl_module.rl_module import RLModule
    return with_legacy_statistics(load_checked(RLModule.from_checkpoint, folder), path)


def with_legacy_statistics(module, checkpoint: str):
    """`module`, given the statistics an Algorithm checkpoint older than module-kept statistics
    holds in its env runner's connector, where the module carries none (those checkpoints are
    unpickled: load them only with trust_checkpoint)."""
    from rllib_embed.embed_pg.connectors.normalize_observations import NormalizeObservations

    legacy = os.path.join(os.fspath(checkpoint), COMPONENT_ENV_RUNNER, COMPONENT_ENV_TO_MODULE_CONNECTOR,
                          NormalizeObservations.__name__)
    if getattr(module, OBSERVATION_NORMALIZER, "absent") is None and os.path.isdir(legacy):
        module.observation_normalizer = load_checked(NormalizeObservations.from_checkpoint, legacy).frozen()
    return module


def load_observation_normalizer(checkpoint: str, *, trust_checkpoint: bool = False) -> Optional[ObservationNormalizer]:
    """The observation statistics of the module in `checkpoint` (an Algorithm checkpoint or
    its RLModule folder alone); None where it was trained on raw observations.

    Raises ValueError where the module was trained with normalize_observations but the
    checkpoint holds no statistics for it; `load_module`'s errors otherwise.
    """
    return module_observation_normalizer(load_module(checkpoint, trust_checkpoint=trust_checkpoint),
                                         f"checkpoint {os.fspath(checkpoint)!r}")
