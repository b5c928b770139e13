"""The `rllib` command answers `--help` and argument errors before it loads Ray or torch."""

import subprocess
import sys

import pytest

from tests.test_cli import REPO

# What pip's console script runs, in a file named `rllib` as the installed one is; it then
# reports which heavy modules the process had loaded.
LAUNCHER = """import sys
from rllib_embed.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as e:  # --help
    code = e.code
print("loaded:", sorted(m for m in ("ray", "torch", "ray.rllib", "ray.tune") if m in sys.modules))
sys.exit(code)
"""


@pytest.mark.parametrize("argv, code, says", [
    (["--help"], 0, "{train,evaluate,regress}"),
    (["train", "--help"], 0, "--algo"),
    (["train", "--algo", "PPO"], 2, "no environment given"),
    (["train", "--algo", "EmbedPG", "--env", "x", "--config", '{"lr": }'], 2, "--config: malformed JSON"),
    (["train", "--num-env-runners", "-1"], 2, "--num-env-runners"),
    (["evaluate", "--episodes", "0", "somewhere"], 2, "--episodes"),
])
def test_help_and_argument_errors_come_before_ray_and_torch_load(tmp_path, argv, code, says):
    launcher = tmp_path / "rllib"
    launcher.write_text(LAUNCHER)
    done = subprocess.run([sys.executable, str(launcher), *argv], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == code, done.stderr
    assert says in done.stdout + done.stderr
    assert "loaded: []" in done.stdout, done.stdout[-500:]


@pytest.mark.slow
def test_a_command_that_runs_registers_embed_pg_and_the_envs(tmp_path):
    """Past the arguments the registry is there: an unknown env is named against the registered ones."""
    launcher = tmp_path / "rllib"
    launcher.write_text(LAUNCHER)
    done = subprocess.run([sys.executable, str(launcher), "train", "--algo", "EmbedPG", "--env", "rllib_embed/Nope-v0"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert "rllib_embed/PointGoals-v0" in done.stderr, done.stderr[-2000:]


@pytest.mark.parametrize("flags, in_file, expected", [
    ([], None, True),                               # on by default: `rllib evaluate TRIAL` has a checkpoint
    (["--no-checkpoint-at-end"], None, False),
    ([], False, False),                             # the file's own `checkpoint_at_end: false`
    (["--checkpoint-at-end"], False, True),         # a flag overrides the file
])
def test_a_trial_checkpoints_at_its_end_unless_told_not_to(tmp_path, flags, in_file, expected):
    from rllib_embed.cli.experiment import experiment_from_args
    from rllib_embed.cli.main import parse_args

    spec = "run:\n  env: rllib_embed/PointGoals-v0\n  run: EmbedPG\n"
    if in_file is not None:
        spec += f"  checkpoint_at_end: {str(in_file).lower()}\n"
    path = tmp_path / "f.yaml"
    path.write_text(spec)
    assert experiment_from_args(parse_args(["train", "file", str(path), *flags])).checkpoint_at_end is expected


@pytest.mark.parametrize("argv, starts", [
    (["train", "--algo", "PPOO", "--env", "rllib_embed/PointGoals-v0"], "rllib: error: unknown algorithm 'PPOO'"),
    (["train", "--algo", "EmbedPG", "--env", "Nope-v0"], "rllib: error: unknown env 'Nope-v0'"),
    (["train", "--algo", "EmbedPG", "--env", "rllib_embed/PointGoals-v0", "--config", "{bad"],
     "rllib: error: --config: malformed JSON"),
])
def test_docs_cli_errors_are_what_the_command_prints(argv, starts, capfd):
    """docs/cli.md's "Errors" lines, word for word."""
    from pathlib import Path

    from rllib_embed.cli.main import main

    doc = (Path(REPO) / "docs" / "cli.md").read_text()
    (documented,) = [line for line in doc.splitlines() if line.startswith(starts)]
    assert main(argv) == 2
    assert capfd.readouterr().err.strip() == documented
