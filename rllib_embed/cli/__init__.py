"""The `rllib` command: `rllib train`, `rllib train file`, `rllib evaluate`, `rllib regress`.

Shaped like RLlib's former CLI; runs any algorithm in RLlib's registry (EmbedPG included)
through Ray Tune. Nothing below this package imports it.
"""
