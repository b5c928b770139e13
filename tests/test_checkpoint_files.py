"""Half-written and damaged checkpoints: a checkpoint appears only complete,
every reader takes only complete ones and says which, a damaged file is one line naming it."""

import json
import os
import shutil

import pytest

from rllib_embed.embed_pg.checkpoint_files import (
    MANIFEST, MARKER, CheckpointError, atomic_save, check_checkpoint, remove_abandoned_saves, resolve_checkpoint,
    write_manifest,
)

NORMALISER_STATE = os.path.join("env_runner", "env_to_module_connector", "NormalizeObservations", "state.pkl")
MODULE_STATE = os.path.join("learner_group", "learner", "rl_module", "default_policy", "module_state.pkl")


def _truncate(file, keep=0.5):
    data = open(file, "rb").read()
    with open(file, "wb") as f:
        f.write(data[:int(len(data) * keep)])


# ---- writing: without Ray ---------------------------------------------------------------

def _fake_rllib_save(folder, fail_after_marker=False):
    os.makedirs(os.path.join(folder, "sub"))
    with open(os.path.join(folder, MARKER), "w") as f:
        f.write("{}")  # RLlib writes its marker first ...
    if fail_after_marker:
        raise KeyboardInterrupt  # ... a kill here left a folder that looked like a checkpoint
    for name in ("class_and_ctor_args.pkl", "sub/state.pkl", "algorithm_state.pkl"):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(b"x" * 100)


def test_a_save_cut_short_leaves_no_checkpoint_folder(tmp_path):
    target = tmp_path / "checkpoint_000003"
    with pytest.raises(KeyboardInterrupt):
        atomic_save(lambda d: _fake_rllib_save(d, fail_after_marker=True), target)
    assert list(tmp_path.iterdir()) == []  # neither the target nor the hidden folder


@pytest.mark.parametrize("existing", ["none", "empty (as Tune hands it over)", "an older checkpoint"])
def test_atomic_save_replaces_the_target_whole(tmp_path, existing):
    target = tmp_path / "ckpt"
    if existing != "none":
        target.mkdir()
    if existing == "an older checkpoint":
        (target / "stale.pkl").write_bytes(b"old")
    atomic_save(_fake_rllib_save, target)
    check_checkpoint(target)
    assert not (target / "stale.pkl").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]


def test_the_next_save_removes_the_hidden_folders_of_killed_saves(tmp_path):
    """A save killed half-way leaves its hidden folder; the next save in the same folder removes it,
    and leaves those of processes still running (another save under way) alone."""
    import socket
    import subprocess
    import sys

    host = socket.gethostname().replace("-", "_")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    killed = tmp_path / f".tmp-checkpoint_000004-{host}-{dead}-0123abcd"
    running = tmp_path / f".tmp-checkpoint_000005-{host}-{os.getpid()}-0123abcd"
    elsewhere = tmp_path / f".tmp-checkpoint_000006-otherhost-{dead}-0123abcd"
    for folder in (killed, running, elsewhere):
        folder.mkdir()
        (folder / "x.pkl").write_bytes(b"half")
    atomic_save(_fake_rllib_save, tmp_path / "checkpoint_000007")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["checkpoint_000007", running.name, elsewhere.name])
    assert remove_abandoned_saves(str(tmp_path)) == []


def _trial_with(tmp_path, damage):
    """checkpoint_000001 complete, checkpoint_000002 damaged as ``damage`` says."""
    trial = tmp_path / "trial"
    for i in (1, 2):
        atomic_save(_fake_rllib_save, trial / f"checkpoint_00000{i}")
    newest = trial / "checkpoint_000002"
    if damage == "marker only (RLlib's save cut short)":
        shutil.rmtree(newest)
        newest.mkdir()
        (newest / MARKER).write_text("{}")
    elif damage == "truncated file":
        _truncate(newest / "sub" / "state.pkl")
    elif damage == "missing file (copy cut short)":
        os.remove(newest / "algorithm_state.pkl")
    elif damage == "no manifest, no algorithm_state.pkl":
        os.remove(newest / MANIFEST)
        os.remove(newest / "algorithm_state.pkl")
    return trial


@pytest.mark.parametrize("damage", ["marker only (RLlib's save cut short)", "truncated file",
                                    "missing file (copy cut short)", "no manifest, no algorithm_state.pkl"])
def test_resolve_takes_the_newest_complete_checkpoint_and_says_so(tmp_path, damage):
    trial = _trial_with(tmp_path, damage)
    said = []
    assert resolve_checkpoint(trial, say=said.append) == str(trial / "checkpoint_000001")
    assert said[0].startswith("skipped: ") and "checkpoint_000002" in said[0]
    assert said[-1].startswith(f"checkpoint: {trial / 'checkpoint_000001'}")
    with pytest.raises(CheckpointError, match="checkpoint_000002"):  # named directly: refused, named
        resolve_checkpoint(trial / "checkpoint_000002")


def test_a_changed_file_is_named(tmp_path):
    atomic_save(_fake_rllib_save, tmp_path / "c")
    with open(tmp_path / "c" / "sub" / "state.pkl", "r+b") as f:
        f.write(b"y")  # same size, other bytes
    with pytest.raises(CheckpointError, match=r"damaged checkpoint file .*sub/state.pkl"):
        check_checkpoint(tmp_path / "c")
    (tmp_path / "c" / MANIFEST).write_text("{not json")
    with pytest.raises(CheckpointError, match=f"damaged checkpoint file .*{MANIFEST}"):
        check_checkpoint(tmp_path / "c")


def test_manifest_lists_every_file(tmp_path):
    _fake_rllib_save(str(tmp_path / "c"))
    write_manifest(str(tmp_path / "c"))
    files = json.loads((tmp_path / "c" / MANIFEST).read_text())["files"]
    assert sorted(files) == sorted(["class_and_ctor_args.pkl", "sub/state.pkl", "algorithm_state.pkl", MARKER])


# ---- EmbedPG's real checkpoints, read by every reader ----------------------------------------



@pytest.mark.parametrize("damaged", ["algorithm_state.pkl", MODULE_STATE])
def test_from_checkpoint_and_restore_check_the_manifest_before_any_work(small_checkpoint, tmp_path, damaged):
    """A truncated file is one CheckpointError line naming it: from_checkpoint before the
    algorithm is built, restore before RLlib unpickles anything."""
    from rllib_embed import EmbedPG

    ckpt = tmp_path / "ckpt"
    shutil.copytree(small_checkpoint, ckpt)
    _truncate(ckpt / damaged)
    message = f"damaged checkpoint file {ckpt / damaged}: "
    with pytest.raises(CheckpointError, match=message) as e:
        EmbedPG.from_checkpoint(str(ckpt))
    assert "\n" not in str(e.value)
    algo = EmbedPG.from_checkpoint(str(small_checkpoint))
    try:
        with pytest.raises(CheckpointError, match=message):
            algo.restore_from_path(str(ckpt))
        algo.restore_from_path(str(small_checkpoint))  # an intact one restores
    finally:
        algo.stop()


def test_embed_pg_checkpoint_carries_a_manifest_and_nothing_half_written(small_checkpoint):
    check_checkpoint(small_checkpoint)
    assert (small_checkpoint / MANIFEST).is_file()
    assert sorted(p.name for p in small_checkpoint.parent.iterdir()) == ["checkpoint"]  # no hidden folder left


def _tune_trial(small_checkpoint, tmp_path, damage_newest):
    trial = tmp_path / "trial"
    for i in (0, 1):
        shutil.copytree(small_checkpoint, trial / f"checkpoint_00000{i}")
    _truncate(trial / "checkpoint_000001" / damage_newest)
    return trial


@pytest.mark.parametrize("damaged", [MODULE_STATE, NORMALISER_STATE])
def test_evaluate_skips_a_damaged_newest_checkpoint_and_says_which_it_took(small_checkpoint, tmp_path, capfd, damaged):
    from rllib_embed.cli.main import main

    trial = _tune_trial(small_checkpoint, tmp_path, damaged)
    assert main(["evaluate", str(trial), "--episodes", "1"]) == 0
    out, err = capfd.readouterr()
    assert f"skipped: damaged checkpoint file {trial / 'checkpoint_000001' / damaged}" in err
    # Named once, as the report's first line, with which of the trial's checkpoints it is.
    assert f"checkpoint: {trial / 'checkpoint_000000'}" not in err
    assert out.startswith(f"checkpoint: {trial / 'checkpoint_000000'} (newest complete of 2 in the trial folder)\n")
    assert out.count("checkpoint: ") == 1


MODULE_DIR = os.path.dirname(MODULE_STATE)
PLAIN_FILES = (os.path.join(MODULE_DIR, "embed_pg_module.json"), os.path.join(MODULE_DIR, "embed_pg_weights.pt"),
               "embed_pg_run.json")


@pytest.mark.parametrize("damaged, trusted", [
    (PLAIN_FILES[0], False), (PLAIN_FILES[1], False),  # what a plain (no-unpickling) read takes
    (MODULE_STATE, True), ("class_and_ctor_args.pkl", True),  # an older checkpoint, read by unpickling
])
def test_a_damaged_file_without_manifest_is_one_line_naming_it(small_checkpoint, tmp_path, capfd, damaged, trusted):
    """A checkpoint without manifest: the loader's error becomes one line naming the file, for the
    plain files and, in a checkpoint without them read with --trust-checkpoint, for RLlib's pickles."""
    from rllib_embed.cli.main import main

    ckpt = tmp_path / "old"
    shutil.copytree(small_checkpoint, ckpt)
    os.remove(ckpt / MANIFEST)
    if trusted:
        for plain in PLAIN_FILES:
            os.remove(ckpt / plain)
    _truncate(ckpt / damaged)
    assert main(["evaluate", str(ckpt), "--episodes", "1", *(["--trust-checkpoint"] if trusted else [])]) == 2
    out, err = capfd.readouterr()
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("rllib: error: ") and str(ckpt / damaged) in line, err
    assert "Traceback" not in err


def test_the_env_runners_normaliser_file_is_not_needed_where_the_module_carries_the_statistics(small_checkpoint, tmp_path,
                                                                                               capfd):
    """The statistics travel in the module's own state (observation_statistics.py): a damaged copy
    in the env runner's connector folder of a manifest-less checkpoint is never read."""
    from rllib_embed.cli.main import main

    ckpt = tmp_path / "old"
    shutil.copytree(small_checkpoint, ckpt)
    os.remove(ckpt / MANIFEST)
    _truncate(ckpt / NORMALISER_STATE)
    assert main(["evaluate", str(ckpt), "--episodes", "1"]) == 0
    assert "Traceback" not in capfd.readouterr().err


def test_transfer_and_pictures_take_only_complete_checkpoints(small_checkpoint, tmp_path, capfd):
    from rllib_embed.transfer import load_skills
    from rllib_embed.transfer.checkpoint import checkpoint_env
    from rllib_embed.viz.pictures import make_pictures

    trial = _tune_trial(small_checkpoint, tmp_path, MODULE_STATE)
    module = load_skills(trial)
    assert module.num_tasks == 2
    assert f"checkpoint: {trial / 'checkpoint_000000'}" in capfd.readouterr().err
    written = make_pictures(trial, tmp_path / "pictures", episodes_per_task=1)
    assert os.path.isfile(written["embedding_space"])
    assert f"checkpoint: {trial / 'checkpoint_000000'}" in capfd.readouterr().err
    with pytest.raises(CheckpointError, match=f"damaged checkpoint file {trial / 'checkpoint_000001' / MODULE_STATE}"):
        load_skills(trial / "checkpoint_000001")
    _truncate(trial / "checkpoint_000000" / "class_and_ctor_args.pkl")
    os.remove(trial / "checkpoint_000000" / MANIFEST)
    assert checkpoint_env(trial / "checkpoint_000000")[0] == "rllib_embed/PointGoals-v0"  # the plain run file
    os.remove(trial / "checkpoint_000000" / "embed_pg_run.json")
    with pytest.raises(CheckpointError, match="damaged checkpoint file .*class_and_ctor_args.pkl"):
        checkpoint_env(trial / "checkpoint_000000", trust_checkpoint=True)
