"""Learner connector: the batch's rows in random order, before the clipped update's first epoch."""

from typing import Any, Dict, List, Optional

import numpy as np
import torch
import tree

from ray.rllib.connectors.connector_v2 import ConnectorV2
from ray.rllib.utils.typing import EpisodeType


class ShuffleRows(ConnectorV2):
    """Puts every module batch's rows in one random order (every column alike).

    RLlib's minibatch iterator (`MiniBatchCyclicIterator`) shuffles the batch only after its
    first pass, so the first epoch's minibatches would be runs of consecutive rows: one env's
    steps, one task and one skill z each. Every later step of the update is clipped against the
    policy before it, so that first epoch's one-skill steps stay. Shuffled here, every epoch's
    minibatches are random rows of all envs, as the later epochs' are. Runs after the pieces
    that need a segment's rows together (windows, returns, weights). The order comes from
    numpy's global generator, as RLlib's own shuffle (a checkpoint keeps its state).
    """

    def __call__(self, *, rl_module, batch: Dict[str, Any], episodes: List[EpisodeType],
                 explore: Optional[bool] = None, shared_data: Optional[dict] = None, **kwargs) -> Any:
        for module_id, module_batch in batch.items():
            rows = _num_rows(module_batch)
            if rows is None:
                continue
            order = torch.as_tensor(np.random.permutation(rows))

            def take(column):
                if isinstance(column, torch.Tensor) and column.shape[:1] == (rows,):
                    return column.index_select(0, order.to(column.device))
                return column
            batch[module_id] = tree.map_structure(take, module_batch)
        return batch


def _num_rows(module_batch) -> Optional[int]:
    for column in tree.flatten(module_batch):
        if isinstance(column, torch.Tensor) and column.dim() > 0:
            return int(column.shape[0])
    return None
