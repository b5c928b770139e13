"""How a run ended and how it continues: Ctrl-C is reported as an
interrupt (exit 130, last checkpoint, the exact resume command); `--resume` continues from the
newest checkpoint; a reused --name without --resume is refused before any work."""

import glob
import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.test_cli import CLI, POINT_GOALS, RAY_FLAGS, REPO, TINY_EMBED_PG

ITERATIONS = 30


def _train_argv(storage, name="run"):
    return ["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", json.dumps(TINY_EMBED_PG),
            "--stop", json.dumps({"training_iteration": ITERATIONS}), "--checkpoint-freq", "1",
            "--storage-path", str(storage), "--name", name, *RAY_FLAGS]


def _start(argv):
    return subprocess.Popen([*CLI, *argv], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)


def _resume(storage, timeout=600):
    """`rllib train ... --resume` of `_train_argv`'s run, to its end."""
    return subprocess.run([*CLI, *_train_argv(storage), "--resume"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=timeout)


def _wait_for_complete_checkpoint(experiment: Path, index: int, proc, timeout=240):
    """Until the trial's checkpoint_<index> is complete (its manifest, written last, is there)."""
    pattern = str(experiment / "*" / f"checkpoint_{index:06d}" / "checkpoint_manifest.json")
    start = time.time()
    while not glob.glob(pattern):
        assert proc.poll() is None, f"the run ended before checkpoint {index}: {proc.communicate()[1][-2000:]}"
        assert time.time() - start < timeout
        time.sleep(0.05)


def _iterations(experiment: Path):
    (result_file,) = glob.glob(str(experiment / "*" / "result.json"))
    return [json.loads(line)["training_iteration"] for line in open(result_file) if line.strip()]


def experiment_checkpoint(experiment: Path, iteration: int) -> str:
    """The trial's checkpoint holding `iteration` (checkpoint_N holds iteration N + 1)."""
    (params,) = glob.glob(str(experiment / "*" / "params.json"))
    return os.path.join(os.path.dirname(params), f"checkpoint_{iteration - 1:06d}")


def _restart_iteration(iterations, results_before):
    """The iteration the resumed run started from: the one before its first result."""
    assert iterations[results_before - 1] < ITERATIONS
    return iterations[results_before] - 1


def _newest_complete_iteration(experiment: Path):
    """checkpoint_N holds iteration N + 1 (--checkpoint-freq 1)."""
    from rllib_embed.embed_pg.checkpoint_files import newest_complete_checkpoint

    (params,) = glob.glob(str(experiment / "*" / "params.json"))
    trial = os.path.dirname(params)
    path, _ = newest_complete_checkpoint(trial)
    return int(os.path.basename(path).split("_")[1]) + 1, path


@pytest.mark.slow
def test_ctrl_c_is_reported_as_interrupted_and_the_printed_command_resumes(tmp_path):
    experiment = tmp_path / "run"
    proc = _start(_train_argv(tmp_path))
    _wait_for_complete_checkpoint(experiment, 1, proc)
    proc.send_signal(signal.SIGINT)  # Ctrl-C: Tune catches it first
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-3000:]
    assert "(interrupted: " in out and "(done)" not in out
    newest, _ = _newest_complete_iteration(experiment)
    assert newest < ITERATIONS
    assert "rllib: interrupted: 1 of 1 trials unfinished" in err
    (line,) = [line for line in err.splitlines() if line.startswith("  resume with: ")]
    command = shlex.split(line.split("resume with: ", 1)[1])
    assert command[:2] == ["rllib", "train"] and command[-1] == "--resume"
    assert "Tuner.restore" not in out + err  # Tune's own hint, for its Python API, is held back
    results_before = len(_iterations(experiment))

    resumed = subprocess.run([*CLI, *command[1:]], cwd=REPO, capture_output=True, text=True, timeout=300,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    iterations = _iterations(experiment)
    restart = _restart_iteration(iterations, results_before)
    # The newest checkpoint, or the one before where the Ctrl-C came between a checkpoint's
    # write and Tune's record of it; the interrupted report and the resumed run name the
    # checkpoint the run really continues from.
    assert newest - 1 <= restart <= newest
    resumed_from = experiment_checkpoint(experiment, restart)
    assert f"trial 0 last checkpoint: {resumed_from}" in err
    assert f"from {resumed_from}" in resumed.stdout
    assert iterations[-1] == ITERATIONS and "(done)" in resumed.stdout


@pytest.mark.slow
def test_sigterm_ends_the_run_as_ctrl_c_does(tmp_path):
    """`kill`, `timeout` or a scheduler's stop: exit 130, the unfinished trial's last checkpoint
    and the resume line, no stack dump (Ray's own SIGTERM handler prints one and dies)."""
    experiment = tmp_path / "run"
    proc = _start(_train_argv(tmp_path))
    _wait_for_complete_checkpoint(experiment, 1, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-3000:]
    assert "rllib: interrupted: 1 of 1 trials unfinished" in err and "  resume with: " in err
    assert "SIGTERM received" not in err and "Traceback" not in err, err[-3000:]


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_signal_to_the_whole_process_group_ends_the_run_as_ctrl_c_does(tmp_path, signum):
    """GNU `timeout`, `kill -- -PGID`, a scheduler's cancel, a closed terminal (SIGHUP to the
    whole session): the signal reaches Ray's processes too. The run still stops as on Ctrl-C
    (exit 130, the resume line) within seconds, and `--resume` finishes it from there."""
    experiment = tmp_path / "run"
    proc = _start(_train_argv(tmp_path))
    _wait_for_complete_checkpoint(experiment, 1, proc)
    sent = time.time()
    os.killpg(proc.pid, signum)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-3000:]
    assert time.time() - sent < 45, err[-3000:]  # not Ray's 60 s wait for a GCS that is gone
    assert "rllib: interrupted: 1 of 1 trials unfinished" in err and "  resume with: " in err, err[-3000:]
    assert "Traceback" not in err and "Failed to connect to GCS" not in err, err[-3000:]
    results_before = len(_iterations(experiment))
    resumed = _resume(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    iterations = _iterations(experiment)
    assert iterations[-1] == ITERATIONS and len(iterations) > results_before


@pytest.mark.slow
def test_a_hangup_after_the_terminal_is_gone_still_saves_and_exits_as_an_interrupt(tmp_path):
    """stdout and stderr on a terminal (a pty) that hangs up before the SIGHUP arrives, as when a
    window closes: every write to it fails (EIO), so the run must still stop, save and exit 130
    rather than die on its own summary."""
    import select
    import threading

    master, terminal = os.openpty()
    experiment = tmp_path / "run"
    proc = subprocess.Popen([*CLI, *_train_argv(tmp_path)], cwd=REPO, stdin=subprocess.DEVNULL, stdout=terminal,
                            stderr=terminal, env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
    os.close(terminal)
    reading = threading.Event()
    reading.set()

    def drain():  # the terminal's reader, until the window "closes"
        while reading.is_set():
            if select.select([master], [], [], 0.1)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    return
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    _wait_for_complete_checkpoint(experiment, 1, proc)
    reading.clear()
    reader.join()
    os.close(master)  # the terminal hangs up: its slave side answers with EIO from now on
    os.killpg(proc.pid, signal.SIGHUP)
    assert proc.wait(timeout=240) == 130
    resumed = _resume(tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert _iterations(experiment)[-1] == ITERATIONS


@pytest.mark.slow
def test_sigterm_ends_a_regression_run_as_ctrl_c_does(tmp_path):
    """`rllib regress` starts Ray the same way: SIGTERM stops it as an interrupt (exit 130), with
    the verdicts marked interrupted, not Ray's stack dump."""
    spec = {"run": {"env": POINT_GOALS, "run": "EmbedPG", "config": TINY_EMBED_PG,
                    "stop": {"training_iteration": ITERATIONS, "env_runners/episode_return_mean": 1000}}}
    path = tmp_path / "run.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    proc = _start(["regress", str(path), "--checkpoint-freq", "1", "--storage-path", str(tmp_path), *RAY_FLAGS])
    _wait_for_complete_checkpoint(tmp_path / "run", 1, proc)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err[-3000:]
    assert "Learning regression: (interrupted)" in out
    assert "SIGTERM received" not in err and "Traceback" not in err, err[-3000:]


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_newest_checkpoint(tmp_path):
    """SIGKILL (no chance to save anything): Tune's experiment state must already name a recent checkpoint."""
    experiment = tmp_path / "run"
    proc = _start(_train_argv(tmp_path))
    _wait_for_complete_checkpoint(experiment, 4, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)
    newest, _ = _newest_complete_iteration(experiment)
    results_before = len(_iterations(experiment))
    resumed = _resume(tmp_path, timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    iterations = _iterations(experiment)
    # At most the one checkpoint written in the instant between its write and Tune's record of it
    # is lost (before the fix: Tune's 10 s snapshot period lost up to 10 s of checkpoints).
    assert newest - 1 <= _restart_iteration(iterations, results_before) <= newest
    assert iterations[-1] == ITERATIONS


@pytest.mark.parametrize("case", ["name exists", "resume without experiment", "resume without name",
                                  "name from the file exists"])
def test_name_clash_and_resume_mistakes_are_one_line_before_any_work(case, tmp_path, capfd):
    from rllib_embed.cli.main import main

    storage = tmp_path / "storage"
    (storage / "run").mkdir(parents=True)
    (storage / "run" / "experiment_state-x.json").write_text("{}")
    (storage / "tuned").mkdir()
    (storage / "tuned" / "result.json").write_text("")
    yaml = tmp_path / "f.yaml"
    yaml.write_text(f"tuned:\n  env: {POINT_GOALS}\n  run: EmbedPG\n  stop: {{training_iteration: 1}}\n")
    before = sorted(str(p) for p in storage.rglob("*"))
    argv, expected = {
        "name exists": (_train_argv(storage), "experiment name 'run': "),
        "resume without experiment": (_train_argv(storage, name="other") + ["--resume"],
                                      "--resume: no experiment to continue at"),
        "resume without name": ([a for a in _train_argv(storage) if a not in ("--name", "run")] + ["--resume"],
                                "--resume needs --name NAME"),
        "name from the file exists": (["train", "file", str(yaml), "--storage-path", str(storage)],
                                      "experiment name 'tuned': "),
    }[case]
    assert main(argv) == 2
    err = capfd.readouterr().err
    (line,) = [line for line in err.splitlines() if line.strip()]
    assert line.startswith("rllib: error: ") and expected in line, err
    if "exists" in case:
        assert "pass --resume to continue it, or choose another --name" in line
    assert sorted(str(p) for p in storage.rglob("*")) == before  # nothing written


def _fake_results(tmp_path, statuses):
    """A ResultGrid-like object: trials with Tune's statuses, each with a last result reaching the criterion."""
    trials = [SimpleNamespace(status=s, trial_id=f"t{i}") for i, s in enumerate(statuses)]
    results = [SimpleNamespace(path=str(tmp_path / f"t{i}"), error=None,
                               metrics={"training_iteration": 3, "env_runners": {"episode_return_mean": 5.0}})
               for i in range(len(statuses))]

    class Grid(list):  # iterates over the results, as ResultGrid does
        _experiment_analysis = SimpleNamespace(trials=trials)
        experiment_path = str(tmp_path / "no-such-experiment")  # no saved state: the in-memory statuses

    return Grid(results)


@pytest.mark.parametrize("statuses,failed", [(["TERMINATED", "TERMINATED"], []),
                                             (["TERMINATED", "PENDING"], [1]),
                                             (["RUNNING", "PAUSED"], [0, 1])])
def test_regress_reads_unfinished_trials_from_tunes_state(tmp_path, statuses, failed):
    from rllib_embed.cli.regression import judge
    from rllib_embed.cli.run_state import interrupted, trial_ends

    results = _fake_results(tmp_path, statuses)
    failures = judge(results, {"env_runners/episode_return_mean": 1.0}, trial_ends(results))
    assert [int(f.split(":")[0].split()[1]) for f in failures] == failed
    assert all("unfinished" in f for f in failures)
    assert interrupted(trial_ends(results)) == bool(failed)
