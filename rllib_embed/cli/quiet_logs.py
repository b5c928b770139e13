"""Notices that Ray, Tune and RLlib print on every run and that ask nothing of the user, held
back at the CLI's default verbosity (in the driver, and in Ray's workers through Ray's
`worker_process_setup_hook`); `-v` shows them. Warnings about the run itself (nan gradients,
env errors, a bad config) are other messages and still show."""

import logging

# (logger, start of the message): the exact notices, nothing else of those loggers.
NOTICES = (
    ("ray.rllib.algorithms.algorithm_config", "You are running "),  # "... on the new API stack!"
    ("ray._common.deprecation", "DeprecationWarning: `RLModule(config="),  # RLlib's own internal call
    ("ray.tune.utils.util", "Install gputil"),  # GPU monitoring, on CPU-only machines too
    ("ray.train._internal.storage", "Checkpoint successfully created"),  # the summary names checkpoints
    ("ray._private.authentication.authentication_token_setup", "Token authentication is enabled"),
    ("ray.tune.trainable.trainable", "Trainable.setup took"),  # advice for Tune's API (reuse_actors)
    ("ray.tune.tune", "Experiment has been interrupted"),  # Tune's `Tuner.restore(...)`: ours says `--resume`
)


class _HoldBack(logging.Filter):
    def __init__(self, start: str):
        super().__init__()
        self.start = start

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(self.start)


def hold_back_notices() -> None:
    """Adds one filter per notice to its logger (once per process)."""
    for name, start in NOTICES:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _HoldBack) and f.start == start for f in logger.filters):
            logger.addFilter(_HoldBack(start))


# Ray's runtime_env key: `hold_back_notices` runs in every worker process at its start.
WORKER_SETUP = {"worker_process_setup_hook": "rllib_embed.cli.quiet_logs.hold_back_notices"}
