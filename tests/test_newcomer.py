"""Issue 12 section 8: what a newcomer sees (the viz extra named, the TensorBoard hint only
where tensorboard exists)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
WITHOUT_MATPLOTLIB = "import sys; sys.modules['matplotlib'] = None; "  # importing it raises ImportError


def _python(code):
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


@pytest.mark.slow
def test_viz_command_without_matplotlib_names_the_extra_in_one_line(tmp_path):
    proc = _python(WITHOUT_MATPLOTLIB + "import runpy; sys.argv = ['viz', 'ckpt', '--out', 'o']; "
                   "runpy.run_module('rllib_embed.viz', run_name='__main__')")
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert "pip install 'rllib-embed[viz]'" in line and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", ["make_pictures", "PICTURES", "find_results"])
def test_viz_names_without_matplotlib_raise_import_error_naming_the_extra(name):
    proc = _python(WITHOUT_MATPLOTLIB + f"from rllib_embed.viz import {name}")
    assert proc.returncode == 1 and "ImportError: rllib_embed.viz (pictures) needs the optional package " \
                                    "'matplotlib': pip install 'rllib-embed[viz]'" in proc.stderr


@pytest.mark.parametrize("installed", [False, True])
def test_the_tensorboard_hint_only_where_tensorboard_is_installed(installed, monkeypatch, capsys):
    from rllib_embed.cli import train

    monkeypatch.setattr(train, "tensorboard_installed", lambda: installed)
    no_trials = type("Results", (), {"experiment_path": "/tmp/exp", "__iter__": lambda self: iter(())})()
    train.print_summary(no_trials, ends=[])
    out = capsys.readouterr().out
    assert ("tensorboard --logdir /tmp/exp" in out) == installed
    assert "Results: /tmp/exp" in out


def test_tensorboard_installed_reads_the_environment():
    from rllib_embed.cli.train import tensorboard_installed
    import importlib.util
    assert tensorboard_installed() == (importlib.util.find_spec("tensorboard") is not None)
