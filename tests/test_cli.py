"""The `rllib` command end to end, in subprocesses (`python -m rllib_embed.cli`), as a user runs it.

Tiny runs (a few iterations, one local env runner, 2 CPUs); every storage path is a tmp dir.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "rllib_embed.cli"]
POINT_GOALS = "rllib_embed/PointGoals-v0"
# Two tasks, short episodes: a whole EmbedPG iteration is K*D*I = 2*1*10 env steps.
TINY_EMBED_PG = {"env_config": {"num_tasks": 2, "episode_len": 10}, "rollout_fragment_length": 10,
                 "num_env_runners": 0}
RAY_FLAGS = ["--num-cpus", "2", "--object-store-memory", str(200 * 1024**2)]


def rllib(*args, timeout=240):
    return subprocess.run([*CLI, *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "PYTHONPATH": str(REPO)})


def ok(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


def trial_dirs(experiment: Path):
    return sorted(p for p in experiment.iterdir() if p.is_dir() and (p / "params.json").exists())


def results(trial: Path):
    return [json.loads(line) for line in (trial / "result.json").read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def flags_run(tmp_path_factory):
    storage = tmp_path_factory.mktemp("flags")
    proc = ok(rllib("train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", json.dumps(TINY_EMBED_PG),
                    "--stop", '{"training_iteration": 2}', "--seed", "3",  # checkpoints at the end by default
                    "--storage-path", storage, "--name", "flags", *RAY_FLAGS))
    return storage / "flags", proc


@pytest.mark.slow
def test_train_from_flags_runs_through_tune_and_reports(flags_run):
    experiment, proc = flags_run
    (trial,) = trial_dirs(experiment)
    params = json.loads((trial / "params.json").read_text())
    assert params["seed"] == 3 and params["rollout_fragment_length"] == 10 and params["env"] == POINT_GOALS
    rows = results(trial)
    assert [r["training_iteration"] for r in rows] == [1, 2]
    assert rows[-1]["num_env_steps_sampled_lifetime"] == 2 * 2 * 10  # 2 iterations of K*D*I
    assert list(trial.glob("events.out.tfevents.*")), "TensorBoard log missing"
    assert (trial / "checkpoint_000000" / "rllib_checkpoint.json").exists()
    # The closing summary names the experiment folder, the checkpoint and the final metrics.
    assert f"Results: {experiment}" in proc.stdout
    assert str(trial / "checkpoint_000000") in proc.stdout
    assert "training_iteration                           2" in proc.stdout
    assert "| Trial name" in proc.stdout  # Tune's progress table while it ran
    # ... headed by the same folder, not Tune's staging folder under /tmp/ray/session_*.
    assert "Result logdir" not in proc.stdout
    assert proc.stdout.split("| Trial name")[0].count(f"Results: {experiment}") == 1
    from rllib_embed.cli.quiet_logs import NOTICES
    for _, notice in NOTICES:  # held back at the default verbosity, in the driver and in Tune's workers
        assert notice not in proc.stderr and notice not in proc.stdout, proc.stderr


@pytest.mark.slow
def test_evaluate_embed_pg_checkpoint_table_and_json(flags_run, tmp_path):
    experiment, _ = flags_run
    (trial,) = trial_dirs(experiment)
    out = tmp_path / "eval.json"
    proc = ok(rllib("evaluate", trial, "--episodes", "2", "--out", out))  # the trial folder: its latest checkpoint
    report = json.loads(out.read_text())
    assert report["checkpoint"] == str(trial / "checkpoint_000000")
    assert report["algorithm"] == "EmbedPG" and report["skill"] == "mean"
    assert [row["task"] for row in report["tasks"]] == [0, 1]
    for row in report["tasks"]:
        assert row["episodes"] == 2 and 0.0 <= row["success_mean"] <= 1.0
        assert row["episode_return_mean"] < 0.0  # reward = -distance to the goal
        # The printed table carries the same numbers as the JSON.
        assert f"{row['task']:>4}  {row['episode_return_mean']:9.3f}  {row['success_mean']:8.2f}" in proc.stdout
    mean = sum(r["episode_return_mean"] for r in report["tasks"]) / 2
    assert report["mean"]["episode_return_mean"] == pytest.approx(mean)


@pytest.mark.slow
def test_train_file_sweep_with_flags_overriding_the_file(tmp_path):
    config = tmp_path / "sweep.yaml"
    config.write_text(
        "tiny-sweep:\n"
        f"  env: {POINT_GOALS}\n"
        "  run: EmbedPG\n"
        "  stop: {training_iteration: 5}\n"
        "  config:\n"
        "    env_config: {num_tasks: 2, episode_len: 10}\n"
        "    num_env_runners: 0\n"
        "    rollout_fragment_length: 10\n"
        "    latent_dim: {grid_search: [2, 3]}\n"
        "    lr: {loguniform: [1.0e-4, 1.0e-3]}\n")
    ok(rllib("train", "file", config, "--stop", '{"training_iteration": 1}', "--config",
             '{"env_config": {"episode_len": 5}}', "--storage-path", tmp_path / "out", *RAY_FLAGS))
    trials = trial_dirs(tmp_path / "out" / "tiny-sweep")
    params = [json.loads((t / "params.json").read_text()) for t in trials]
    assert sorted(p["latent_dim"] for p in params) == [2, 3]
    assert all(1e-4 <= p["lr"] <= 1e-3 for p in params)
    # --config merged into the file's env_config key by key; --stop replaced the file's budget.
    assert all(p["env_config"] == {"num_tasks": 2, "episode_len": 5} for p in params)
    assert all(results(t)[-1]["training_iteration"] == 1 for t in trials)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


PPO_REGRESSION = """\
ppo-reachable:
  env: rllib_embed/PointGoals-v0
  run: PPO
  stop:
    env_runners/episode_return_mean: -1000   # any episode return is above this
    training_iteration: 3
  config:
    env_config: {num_tasks: 2, episode_len: 10}
    num_env_runners: 0
    train_batch_size_per_learner: 100
    minibatch_size: 50
    num_epochs: 1
"""


@pytest.mark.slow
def test_regress_passes_and_ppo_gets_flat_obs_and_evaluates(tmp_path):
    path = write(tmp_path / "pass.yaml", PPO_REGRESSION)
    proc = ok(rllib("regress", path, "--checkpoint-at-end", "--storage-path", tmp_path / "out", *RAY_FLAGS))
    assert f"PASS  {path}" in proc.stdout
    assert "using env_config.flat_obs=true" in proc.stderr
    (trial,) = trial_dirs(tmp_path / "out" / "ppo-reachable")
    assert json.loads((trial / "params.json").read_text())["env_config"]["flat_obs"] is True
    assert results(trial)[-1]["training_iteration"] == 1  # stopped by the criterion, not the budget
    out = tmp_path / "ppo.json"
    ok(rllib("evaluate", trial / "checkpoint_000000", "--episodes", "2", "--out", out))
    report = json.loads(out.read_text())
    assert report["algorithm"] == "PPO"
    assert [row["task"] for row in report["tasks"]] == [0, 1]  # each task pinned in turn
    assert all(row["episodes"] == 2 and "success_mean" in row for row in report["tasks"])
    # Another algorithm's module: a task count that changes PPO's flat observation is refused
    # in one line (not a shape error mid-episode); one that keeps the sizes evaluates.
    proc = rllib("evaluate", trial / "checkpoint_000000", "--env-config", '{"num_tasks": 3}')
    assert proc.returncode == 2 and proc.stderr.splitlines()[-1].startswith("rllib: error: --env-config"), proc.stderr
    assert "observations / actions have 5 / 2 numbers, the module was trained on 4 / 2" in proc.stderr
    ok(rllib("evaluate", trial / "checkpoint_000000", "--episodes", "1", "--env-config", '{"episode_len": 5}'))


@pytest.mark.slow
def test_regress_fails_when_the_criterion_is_not_reached(tmp_path):
    path = write(tmp_path / "fail.yaml", PPO_REGRESSION.replace("ppo-reachable", "ppo-unreachable")
                 .replace("-1000   # any episode return is above this", "1000   # returns are <= 0")
                 .replace("training_iteration: 3", "training_iteration: 1"))
    proc = rllib("regress", path, "--storage-path", tmp_path / "out", *RAY_FLAGS)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"FAIL  {path}" in proc.stdout
    assert "env_runners/episode_return_mean = " in proc.stdout and "< 1000" in proc.stdout


# ---- bad input: one line on stderr, exit code 2, nothing started or written ---------------------------

BAD_YAML = "x:\n  env: [unclosed\n"
ONLY_BUDGET = f"b:\n  env: {POINT_GOALS}\n  run: EmbedPG\n  stop: {{training_iteration: 1}}\n"
# Run as a user would, in subprocesses (all at once: each only imports and exits).
ERROR_CASES = {
    "unknown algorithm": (["train", "--algo", "NoSuchAlgo", "--env", POINT_GOALS], "unknown algorithm 'NoSuchAlgo'"),
    "unknown env": (["train", "--algo", "PPO", "--env", "NoSuchEnv-v9"], "unknown env 'NoSuchEnv-v9'"),
    "malformed JSON": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", "{latent_dim: 3}"],
                       "--config: malformed JSON"),
    "malformed YAML": (["train", "file", "{dir}/bad.yaml"], "malformed YAML (line 3"),
    "unknown config key": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", '{"latnt_dim": 3}'],
                           "unknown config key 'latnt_dim' for EmbedPG (EmbedPGConfig); did you mean 'latent_dim'?"),
    "invalid config value": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", '{"alpha2": -1}'],
                             "EmbedPGConfig.alpha2 must be a finite number >= 0; got -1"),
    "missing checkpoint": (["evaluate", "{dir}/no/such/checkpoint"], "checkpoint path does not exist"),
    "not a checkpoint": (["evaluate", "{dir}"], "not a checkpoint"),
}
# The same checks in-process (`main(argv)`), to spare a Python start each.
IN_PROCESS_CASES = {
    "bad env_config": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config",
                        '{"env_config": {"num_task": 3}}'], "unknown key 'num_task'"),
    "bad search space": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config",
                          '{"lr": {"uniform": [0.1]}}'], "config.lr: {uniform: ...} takes numbers [low, high]"),
    "too few CPUs": (["train", "--algo", "PPO", "--env", "CartPole-v1", "--config", '{"num_env_runners": 2}'],
                     "needs 3 CPUs"),
    "negative runner count": (["train", "--algo", "PPO", "--env", "CartPole-v1", "--config",
                               '{"num_workers": -1}'], "num_env_runners must be an int >= 0; got -1"),
    "flat_obs refused": (["train", "--algo", "PPO", "--env", POINT_GOALS, "--config",
                          '{"env_config": {"flat_obs": false}}'], "set env_config.flat_obs: true"),
    "stop not a number": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--stop", '{"x": "high"}'],
                          "--stop: 'x' must be a number"),
    "gamma out of range": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", '{"gamma": 1.5}'],
                           "EmbedPGConfig.gamma must be a finite number in [0, 1]; got 1.5"),
    "NaN learning rate": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", '{"lr": NaN}'],
                          "EmbedPGConfig.lr must be a finite number > 0, or a schedule"),
    "negative num_tasks": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config",
                            '{"env_config": {"num_tasks": -1}}'], "'num_tasks' must be an int in [1, 1024], got -1"),
    "num_tasks not a number": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config",
                                '{"env_config": {"num_tasks": "x"}}'],
                               "'num_tasks' must be an int in [1, 1024], got 'x'"),
    "nothing to check": (["regress", "{dir}/budget.yaml"], "nothing to check"),
    "unreachable cluster": (["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--ray-address", "127.0.0.1:1"],
                            "--ray-address 127.0.0.1:1: nothing answers there"),
    "experiment folder": (["evaluate", "{dir}"], "is an experiment folder with 2 trials"),
}


def _bad_input_folder(folder: Path) -> Path:
    write(folder / "bad.yaml", BAD_YAML)
    write(folder / "budget.yaml", ONLY_BUDGET)
    return folder / "storage"


def _argv(args, folder: Path):
    args = [a.replace("{dir}", str(folder)) for a in args]
    return args + (["--storage-path", str(folder / "storage"), "--num-cpus", "2"] if args[0] != "evaluate" else [])


@pytest.fixture(scope="module")
def error_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    storage = _bad_input_folder(folder)
    procs = {case: subprocess.Popen([*CLI, *_argv(args, folder)], cwd=REPO, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
             for case, (args, _) in ERROR_CASES.items()}
    done = {case: (p.wait(timeout=240), *p.communicate()) for case, p in procs.items()}
    return done, storage, folder


@pytest.mark.slow
@pytest.mark.parametrize("case", list(ERROR_CASES))
def test_bad_input_is_one_line_exit_2_and_nothing_runs(error_runs, case):
    done, storage, folder = error_runs
    code, stdout, stderr = done[case]
    assert code == 2, stderr
    (line,) = stderr.splitlines()  # one line: no traceback, no log noise
    assert line.startswith("rllib: error: ") and ERROR_CASES[case][1] in line, stderr
    assert stdout == ""
    assert not storage.exists(), "a refused command wrote into the storage path"
    assert sorted(p.name for p in folder.iterdir()) == ["bad.yaml", "budget.yaml"]


@pytest.mark.parametrize("case", list(IN_PROCESS_CASES))
def test_more_bad_input_in_process(case, tmp_path, capfd):
    from rllib_embed.cli.main import main

    storage = _bad_input_folder(tmp_path)
    for trial in ("trial_a", "trial_b"):  # an experiment folder with two trials' checkpoints
        (tmp_path / trial / "checkpoint_000000").mkdir(parents=True)
        (tmp_path / trial / "checkpoint_000000" / "rllib_checkpoint.json").write_text("{}")
    args, expected = IN_PROCESS_CASES[case]
    assert main(_argv(args, tmp_path)) == 2
    out, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("rllib: ")]
    assert lines[-1].startswith("rllib: error: ") and expected in lines[-1], err
    assert "Traceback" not in err
    assert not storage.exists()


@pytest.mark.parametrize("env_config, expected", [
    ({"num_tasks": 8}, "the env's observations / actions have 10 / 2 numbers, the module was trained on 4 / 2"),
    ({"num_tasks": 1}, "the env's observations / actions have 3 / 2 numbers, the module was trained on 4 / 2"),
    ({"goals": [[0.7071, 0.7071]]}, "env 'rllib_embed/PointGoals-v0' refuses it: PointGoals env_config: 'num_tasks'"),
    ({"num_task": 8}, "env 'rllib_embed/PointGoals-v0' refuses it:"),
])
def test_evaluate_refuses_an_env_config_the_module_cannot_run_in_one_line(flags_run, env_config, expected, capfd):
    """Before any episode: the merged env_config that the env refuses, or whose task count (and
    so observation size) differs from training, is one line naming both configs."""
    from rllib_embed.cli.main import main

    experiment, _ = flags_run
    (trial,) = trial_dirs(experiment)
    assert main(["evaluate", str(trial), "--env-config", json.dumps(env_config)]) == 2
    _, err = capfd.readouterr()
    (line,) = [line for line in err.splitlines() if line.startswith("rllib: ")]
    assert line.startswith(f"rllib: error: --env-config {json.dumps(env_config)} (merged over the checkpoint's")
    assert expected in line, line
    assert "Traceback" not in err


@pytest.mark.parametrize("stop", [None, '{"training_iteration": 2}'])
def test_a_run_without_stop_criteria_says_it_runs_until_ctrl_c(stop, tmp_path, capfd):
    """Said once the input is checked and before Ray starts (here an unreachable cluster ends the
    command right after); not said where a stop criterion is given."""
    from rllib_embed.cli.main import main

    argv = ["train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--ray-address", "127.0.0.1:1",
            "--storage-path", str(tmp_path)] + (["--stop", stop] if stop else [])
    assert main(argv) == 2
    lines = [line for line in capfd.readouterr().err.splitlines() if line.startswith("rllib: ")]
    assert lines[-1].startswith("rllib: error: --ray-address 127.0.0.1:1")
    said = [line for line in lines if "no stop criteria" in line]
    assert said == ([] if stop else [lines[0]]) and (stop or "runs until Ctrl-C" in lines[0])


def test_explore_samples_seeded_actions_without_touching_torch_state(flags_run):
    import torch

    from rllib_embed.embed_pg.evaluation import evaluate_per_task
    from rllib_embed.embed_pg.module_checkpoint import load_module

    experiment, _ = flags_run
    (trial,) = trial_dirs(experiment)
    module = load_module(str(trial / "checkpoint_000000"))
    env_config = TINY_EMBED_PG["env_config"]
    state = torch.get_rng_state()
    runs = [evaluate_per_task(module, POINT_GOALS, env_config, episodes_per_task=2, skill="mean", seed=seed,
                              explore=explore) for seed, explore in ((0, True), (0, True), (1, True), (0, False))]
    assert torch.equal(torch.get_rng_state(), state)
    assert runs[0] == runs[1]  # seeded draws
    assert runs[0] != runs[2] and runs[0] != runs[3]  # other seed, and sampled vs mean actions, differ


# An iteration in which no episode ends: 20-step episodes, I=10; iteration 2 ends one per env, 3 none.
EMBED_PG_NAN_LAST = f"""\
nan-last:
  env: {POINT_GOALS}
  run: EmbedPG
  stop: {{training_iteration: 3}}
  pass_criteria:
    env_runners/episode_return_mean: -1000
    env_runners/tasks/min_episode_return_mean: -1000
  config:
    env_config: {{num_tasks: 2, episode_len: 20}}
    rollout_fragment_length: 10
    num_env_runners: 0
"""


@pytest.mark.slow
def test_regress_judges_a_last_iteration_without_episodes_by_the_last_finite_value(tmp_path):
    path = write(tmp_path / "nan.yaml", EMBED_PG_NAN_LAST)
    proc = ok(rllib("regress", path, "--storage-path", tmp_path / "out", *RAY_FLAGS))
    assert f"PASS  {path}" in proc.stdout
    (trial,) = trial_dirs(tmp_path / "out" / "nan-last")
    last = results(trial)[-1]
    assert last["training_iteration"] == 3 and last["env_runners"]["episode_return_mean"] != \
        last["env_runners"]["episode_return_mean"]  # RLlib's own value is NaN there
    assert last["env_runners"]["tasks"]["min_episode_return_mean"] < 0.0  # ours: smoothed, finite
    assert "(last finite value, from iteration 2; iteration 3 reported nan: no episode ended in it)" in proc.stdout
    assert "nan <" not in proc.stdout


@pytest.mark.slow
def test_a_stop_key_no_result_has_stops_after_the_first_result(tmp_path):
    """Tune alone would warn once and run until the other stop keys (here 10,000 iterations)."""
    proc = rllib("train", "--algo", "EmbedPG", "--env", POINT_GOALS, "--config", json.dumps(TINY_EMBED_PG),
                 "--stop", '{"env_runners/tasks/min_sucess_mean": 0.9, "training_iteration": 10000}',
                 "--storage-path", tmp_path / "out", *RAY_FLAGS)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    (line,) = [line for line in proc.stderr.splitlines() if line.startswith("rllib: ")]
    assert line.startswith("rllib: error: stop key 'env_runners/tasks/min_sucess_mean' is in no result")
    assert "nearest keys in the result: env_runners/tasks/min_success_mean" in line
    (experiment,) = (tmp_path / "out").iterdir()
    (trial,) = trial_dirs(experiment)
    assert [r["training_iteration"] for r in results(trial)] == [1]
