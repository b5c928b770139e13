"""`python -m rllib_embed.cli ...`: the same as the `rllib` console script."""

import sys

from rllib_embed.cli.main import main

sys.exit(main())
