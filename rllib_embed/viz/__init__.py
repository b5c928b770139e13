"""Pictures of a trained skill space (matplotlib, PNG, Agg backend).

``python -m rllib_embed.viz CHECKPOINT --out DIR`` or ``make_pictures(CHECKPOINT, DIR)``.
Sits on top of the algorithm and transfer/; nothing below imports it.
"""

from rllib_embed.viz.pictures import PICTURES, find_results, make_pictures

__all__ = ["PICTURES", "find_results", "make_pictures"]
