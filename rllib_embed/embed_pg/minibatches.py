"""Minibatches of whole segments, for the clipped update's epochs.

RLlib's `MiniBatchCyclicIterator` cuts a batch into row ranges, which would split a
segment: its log p(z|t) row (step 0), its embedding baseline and its s^H windows
belong together. Here each epoch shuffles the segments and packs whole ones into
minibatches of at most `minibatch_size` rows (a segment longer than that forms a
minibatch of its own; `EmbedPGConfig.validate` keeps minibatch_size >= I so none is).
"""

from typing import Callable, Iterator, List

import numpy as np
import torch
import tree

from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch


def segment_minibatch_indices(segment_id: np.ndarray, minibatch_size: int,
                              rng: np.random.Generator) -> List[np.ndarray]:
    """Row indices of one epoch's minibatches: whole segments in random order, packed greedily.

    Args:
        segment_id: [B] int, the segment of each row (rows of a segment need not be contiguous).
        minibatch_size: most rows in a minibatch (rows, i.e. env steps).
        rng: numpy generator for the segment order.
    Returns:
        A list of int64 index arrays that together cover every row exactly once; each
        array holds whole segments, rows of a segment in their batch order.
    """
    segment_id = np.asarray(segment_id)
    order = np.argsort(segment_id, kind="stable")
    ids, starts, counts = np.unique(segment_id[order], return_index=True, return_counts=True)
    minibatches, current, size = [], [], 0
    for s in rng.permutation(len(ids)):
        if current and size + counts[s] > minibatch_size:
            minibatches.append(np.concatenate(current))
            current, size = [], 0
        current.append(order[starts[s]:starts[s] + counts[s]])
        size += counts[s]
    if current:
        minibatches.append(np.concatenate(current))
    return minibatches


def take_rows(batch: SampleBatch, index: np.ndarray) -> SampleBatch:
    """The rows `index` of every (possibly nested) column of a tensor batch."""
    rows = None
    def take(column):
        nonlocal rows
        if not isinstance(column, torch.Tensor):
            return column
        if rows is None or rows.device != column.device:
            rows = torch.as_tensor(index, device=column.device)
        return torch.index_select(column, 0, rows)  # column[rows]'s values, with less indexing overhead
    return SampleBatch(tree.map_structure(take, dict(batch)))


class SegmentMinibatchIterator:
    """`num_epochs` passes over a batch in minibatches of whole segments (a Learner batch iterator).

    Yields `MultiAgentBatch`es as RLlib's minibatch iterators do. `should_stop()` is asked
    before each minibatch: the learner's KL early stop (`target_kl`) ends the batch's
    remaining epochs through it.
    """

    def __init__(self, batch: MultiAgentBatch, *, segment_column: str, num_epochs: int, minibatch_size: int,
                 rng: np.random.Generator, should_stop: Callable[[], bool]):
        if len(batch.policy_batches) != 1:
            raise ValueError(f"EmbedPG's clipped update trains one module; the batch has "
                             f"{sorted(batch.policy_batches)}")
        (self._module_id, self._batch), = batch.policy_batches.items()
        self._segment_id = self._batch[segment_column].cpu().numpy()
        self._num_epochs, self._minibatch_size = num_epochs, minibatch_size
        self._rng, self._should_stop = rng, should_stop

    def __iter__(self) -> Iterator[MultiAgentBatch]:
        for _ in range(self._num_epochs):
            for index in segment_minibatch_indices(self._segment_id, self._minibatch_size, self._rng):
                if self._should_stop():
                    return
                yield MultiAgentBatch({self._module_id: take_rows(self._batch, index)}, env_steps=len(index))
