"""Checkpoints from others: reading one to evaluate it, reuse its skills or draw it never runs code
placed in it. EmbedPG's readers take the plain files (JSON and tensors); RLlib's pickles are read
only with --trust-checkpoint / trust_checkpoint=True, or (the command line) for an experiment
`rllib train` started on this machine."""

import json
import os
import pickle
import shutil

import pytest

from rllib_embed.embed_pg.checkpoint_files import (MANIFEST, UntrustedCheckpointError, find_damaged_file,
                                                   write_manifest)
from rllib_embed.embed_pg.plain_files import MODULE_FILE, RUN_FILE, WEIGHTS_FILE

POINT_GOALS = "rllib_embed/PointGoals-v0"
MODULE_DIR = os.path.join("learner_group", "learner", "rl_module", "default_policy")
PICKLES = ("class_and_ctor_args.pkl", os.path.join(MODULE_DIR, "module_state.pkl"),
           os.path.join(MODULE_DIR, "class_and_ctor_args.pkl"))


class _Payload:
    """Unpickling this creates the folder ``marker``: proof that the checkpoint's code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (self.marker,)




def _poisoned(small_checkpoint, tmp_path, *, keep_plain=True):
    """A copy of ``small_checkpoint`` whose every pickle runs code when unpickled, its manifest recomputed
    (as anyone can); without the plain files where ``keep_plain`` is False. (copy, marker)."""
    ckpt, marker = tmp_path / "received", tmp_path / "code_ran"
    shutil.copytree(small_checkpoint, ckpt)
    for rel in PICKLES:
        with open(ckpt / rel, "wb") as f:
            pickle.dump(_Payload(str(marker)), f)
    if not keep_plain:
        for rel in (os.path.join(MODULE_DIR, MODULE_FILE), os.path.join(MODULE_DIR, WEIGHTS_FILE), RUN_FILE):
            os.remove(ckpt / rel)
    os.remove(ckpt / MANIFEST)
    write_manifest(str(ckpt))
    return ckpt, marker


def test_every_reader_takes_the_plain_files_and_runs_no_code(small_checkpoint, tmp_path, capfd):
    from rllib_embed.cli.main import main
    from rllib_embed.transfer import SkillSpaceEnv, load_skills
    from rllib_embed.transfer.checkpoint import checkpoint_env
    from rllib_embed.viz.pictures import make_pictures

    ckpt, marker = _poisoned(small_checkpoint, tmp_path)
    assert main(["evaluate", str(ckpt), "--episodes", "1"]) == 0
    assert "task" in capfd.readouterr().out
    assert load_skills(ckpt).num_tasks == 2
    assert checkpoint_env(ckpt) == (POINT_GOALS, {"num_tasks": 2, "episode_len": 10})
    env = SkillSpaceEnv(str(ckpt), POINT_GOALS, {"num_tasks": 2, "episode_len": 10})
    env.reset(seed=0)
    env.step(env.action_space.sample())
    written = make_pictures(ckpt, tmp_path / "pictures", episodes_per_task=1)
    assert os.path.isfile(written["embedding_space"])
    assert written.skipped["learning_curves"] == "no result folder (pass --results DIR)"  # and says why
    assert sorted(written.skipped) == ["behaviour", "learning_curves"]  # 2-D positions: trajectories instead
    assert find_damaged_file(ckpt) is None  # the pickles' opcodes parsed, not run
    assert not marker.exists()


def test_without_plain_files_each_reader_refuses_in_one_line_until_trusted(small_checkpoint, tmp_path, capfd):
    from rllib_embed.cli.main import main
    from rllib_embed.transfer import load_skills
    from rllib_embed.transfer.checkpoint import checkpoint_env
    from rllib_embed.viz.__main__ import main as viz_main

    ckpt, marker = _poisoned(small_checkpoint, tmp_path, keep_plain=False)
    assert main(["evaluate", str(ckpt), "--episodes", "1"]) == 2
    (line,) = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert line.startswith(f"rllib: error: {ckpt} has no {RUN_FILE}") and "--trust-checkpoint" in line, line
    with pytest.raises(UntrustedCheckpointError, match=f"has no {MODULE_FILE} .*trust_checkpoint=True"):
        load_skills(ckpt)
    with pytest.raises(UntrustedCheckpointError, match=f"has no {RUN_FILE}"):
        checkpoint_env(ckpt)
    with pytest.raises(SystemExit) as exit_info:
        viz_main([str(ckpt), "--out", str(tmp_path / "pictures")])
    assert exit_info.value.code == 2 and "--trust-checkpoint" in capfd.readouterr().err
    assert not marker.exists()
    # Asked for, the unpickling happens (and here runs the planted code): the flag is the only gate.
    main(["evaluate", str(ckpt), "--episodes", "1", "--trust-checkpoint"])
    assert marker.exists()


def test_weights_file_holding_code_is_refused_as_damaged(small_checkpoint, tmp_path, capfd):
    """torch.load(weights_only=True) takes tensors and plain containers only: a weights file
    that pickles code is one line naming it, and the code does not run."""
    import torch

    from rllib_embed.cli.main import main

    ckpt, marker = _poisoned(small_checkpoint, tmp_path)
    torch.save({"policy_net.0.weight": _Payload(str(marker))}, ckpt / MODULE_DIR / WEIGHTS_FILE)
    os.remove(ckpt / MANIFEST)
    write_manifest(str(ckpt))
    assert main(["evaluate", str(ckpt), "--episodes", "1"]) == 2
    (line,) = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert line.startswith(f"rllib: error: damaged checkpoint file {ckpt / MODULE_DIR / WEIGHTS_FILE}"), line
    assert not marker.exists()


def test_the_plain_files_hold_data_only(small_checkpoint):
    with open(small_checkpoint / RUN_FILE) as f:
        assert json.load(f) == {"format_version": 1, "algorithm": "EmbedPG", "env": POINT_GOALS,
                                "env_config": {"num_tasks": 2, "episode_len": 10}}
    with open(small_checkpoint / MODULE_DIR / MODULE_FILE) as f:
        module = json.load(f)
    assert module["module"] == "EmbedPGTorchRLModule" and module["observation_space"]["type"] == "Dict"
    assert module["state"]["observation_normalizer"]["mean"] == {"__tensor__": "observation_normalizer/mean",
                                                                  "kind": "numpy"}


def test_resume_of_a_folder_not_started_here_needs_the_flag(tmp_path, capfd):
    """--resume unpickles Tune's small_checkpoint state and the checkpoints: a folder that `rllib train` did
    not start on this machine is refused before Ray starts, naming the flag."""
    from rllib_embed.cli import own_runs
    from rllib_embed.cli.main import main

    experiment = tmp_path / "received"
    experiment.mkdir()
    (experiment / "tuner.pkl").write_bytes(b"\x80\x04N.")
    argv = ["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--name", "received",
            "--storage-path", str(tmp_path), "--resume"]
    assert main(argv) == 2
    (line,) = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert line.startswith(f"rllib: error: --resume: {experiment} was not started by `rllib train` on this "
                           f"machine") and line.endswith("add --trust-checkpoint"), line
    assert own_runs.started_here(str(experiment / "trial" / "checkpoint_000000")) is None
    own_runs.remember(str(experiment))
    assert own_runs.started_here(str(experiment / "trial" / "checkpoint_000000")) == str(experiment)
    assert own_runs.started_here(str(tmp_path / "received2")) is None  # a prefix is not a parent
