"""Minibatches of whole segments, for the clipped update's epochs.

RLlib's `MiniBatchCyclicIterator` cuts a batch into row ranges, which would split a
segment: its log p(z|t) row (step 0), its embedding baseline and its s^H windows
belong together. Here each epoch shuffles the segments and packs whole ones into
minibatches of at most `minibatch_size` rows (a segment longer than that forms a
minibatch of its own; `EmbedPGConfig.validate` keeps minibatch_size >= I so none is).
"""

from typing import Callable, Collection, Iterator, List

import numpy as np
import torch
import tree

from ray.rllib.policy.sample_batch import MultiAgentBatch, SampleBatch


def segment_rows(segment_id: np.ndarray) -> List[np.ndarray]:
    """The row indices of each segment (int64, rows in their batch order), segments by id.

    Args:
        segment_id: [B] int, the segment of each row (rows of a segment need not be contiguous).
    """
    segment_id = np.asarray(segment_id)
    order = np.argsort(segment_id, kind="stable")
    _, starts, counts = np.unique(segment_id[order], return_index=True, return_counts=True)
    return [order[start:start + count] for start, count in zip(starts, counts)]


def pack_segments(segments: List[np.ndarray], minibatch_size: int, rng: np.random.Generator) -> List[np.ndarray]:
    """One epoch's minibatches: the `segments` (row indices each) in random order, packed
    greedily into minibatches of at most `minibatch_size` rows (a longer segment alone)."""
    minibatches, current, size = [], [], 0
    for s in rng.permutation(len(segments)):
        if current and size + len(segments[s]) > minibatch_size:
            minibatches.append(np.concatenate(current))
            current, size = [], 0
        current.append(segments[s])
        size += len(segments[s])
    if current:
        minibatches.append(np.concatenate(current))
    return minibatches


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
    return pack_segments(segment_rows(segment_id), minibatch_size, rng)


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
                 rng: np.random.Generator, should_stop: Callable[[], bool], drop_columns: Collection[str] = ()):
        if len(batch.policy_batches) != 1:
            raise ValueError(f"EmbedPG's clipped update trains one module; the batch has "
                             f"{sorted(batch.policy_batches)}")
        (self._module_id, module_batch), = batch.policy_batches.items()
        # Columns no step reads (`drop_columns`) are not gathered into every minibatch.
        self._batch = SampleBatch({k: v for k, v in module_batch.items() if k not in drop_columns})
        self._segments = segment_rows(module_batch[segment_column].cpu().numpy())  # the same every epoch
        self._num_epochs, self._minibatch_size = num_epochs, minibatch_size
        self._rng, self._should_stop = rng, should_stop

    def __iter__(self) -> Iterator[MultiAgentBatch]:
        for _ in range(self._num_epochs):
            for index in pack_segments(self._segments, self._minibatch_size, self._rng):
                if self._should_stop():
                    return
                yield MultiAgentBatch({self._module_id: take_rows(self._batch, index)}, env_steps=len(index))
