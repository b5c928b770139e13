"""What EmbedPG relies on of RLlib beyond its documented API, pinned so that an RLlib upgrade
that changes it fails here first."""

from ray.rllib.algorithms.algorithm_config import AlgorithmConfig

from rllib_embed.embed_pg.config_checks import RLLIB_UNSET


def test_rllibs_not_set_marker_is_minus_one_and_get_state_drops_it():
    """config_checks.RLLIB_UNSET: AlgorithmConfig.get_state drops every field equal to RLlib's
    DEPRECATED_VALUE, which EmbedPGConfig.get_state puts back for validate() to judge."""
    from ray._common.deprecation import DEPRECATED_VALUE
    assert RLLIB_UNSET == DEPRECATED_VALUE
    config = AlgorithmConfig()
    config.lr = RLLIB_UNSET
    assert "lr" not in config.get_state()


def test_tunes_cli_reporter_prints_its_table_through_print_with_a_result_logdir_line(capsys):
    """cli/progress_table.ProgressTable: Tune's CLIReporter writes each status block through
    `_print`, headed by `Result logdir: ...`, which ProgressTable replaces."""
    from ray.tune import CLIReporter

    from rllib_embed.cli.progress_table import TUNE_LOGDIR_LINE, ProgressTable

    assert callable(getattr(CLIReporter, "_print", None))
    table = ProgressTable(results_path="/results/x")
    table._print(f"== Status ==\n{TUNE_LOGDIR_LINE}/tmp/ray/session_1/a\n{TUNE_LOGDIR_LINE}/tmp/ray/session_1/b\nrow")
    assert capsys.readouterr().out == "== Status ==\nResults: /results/x\nrow\n"


def test_tunes_status_block_still_has_the_result_logdir_line():
    import inspect

    from ray.tune import progress_reporter

    from rllib_embed.cli.progress_table import TUNE_LOGDIR_LINE
    assert f'"{TUNE_LOGDIR_LINE}{{}}"' in inspect.getsource(progress_reporter)
