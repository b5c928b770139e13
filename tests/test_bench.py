"""Smoke tests of the benchmark scripts (bench/): they run end to end and write the promised
JSON keys and markdown. Tiny settings; no timing is asserted (speed is the benchmarks' job)."""

import json
import os
import sys

import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import common  # noqa: E402
import families  # noqa: E402
import learning  # noqa: E402
import memory  # noqa: E402
import scaling  # noqa: E402
import throughput  # noqa: E402

# --torch-threads 0: the scripts leave torch's settings alone; the fixture below sets one
# thread for these tests (much faster on a busy 2-core machine) and restores the count after.
TINY = ["--rounds", "1", "--iterations", "1", "--warmup", "1", "--torch-threads", "0"]


@pytest.fixture(autouse=True)
def one_torch_thread():
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _load(path):
    with open(path) as f:
        data = json.load(f)
    with open(os.path.splitext(path)[0] + ".md") as f:
        md = f.read()
    return data, md


@pytest.mark.slow
def test_throughput_keys(ray_session, tmp_path):
    out = str(tmp_path / "throughput.json")
    throughput.main(TINY + ["--out", out])
    data, md = _load(out)
    for key in ("embedpg_steps_per_s", "ppo_steps_per_s", "ppo_one_epoch_steps_per_s", "ceiling_steps_per_s"):
        assert data[key] > 0, key
    for key in ("ratio_vs_ppo", "ratio_vs_ppo_one_epoch", "ratio_vs_ceiling"):
        assert data[key] > 0, key
    assert data["ratio_vs_ppo"] == pytest.approx(data["rounds"][0]["embedpg"]["steps_per_s"]
                                                 / data["rounds"][0]["ppo"]["steps_per_s"])
    s = data["settings"]
    assert s["train_batch"] == s["num_tasks"] * s["copies_per_task"] * s["rollout_fragment_length"] == 200
    assert s["ppo_defaults"]["num_epochs"] > 1
    split = data["split_s_per_iteration"]["embedpg"]
    assert set(split) == set(throughput.PHASES) and split["sampling"] > 0 and split["gradient"] > 0
    assert "| EmbedPG |" in md and "PPO, 1 epoch" in md
    # The learner ratio: PPO's connectors + gradient time over the clipped update's, in the round.
    r0 = data["rounds"][0]
    assert data["learner_ratio_clipped_vs_ppo_same_epochs"] == pytest.approx(
        throughput.learner_seconds(r0["ppo_same_epochs"]) / throughput.learner_seconds(r0["embedpg_clipped"]))
    assert "Learner speed, the clipped update beside PPO" in md
    # The timing wrappers are gone once the algorithms are stopped.
    import rllib_embed.embed_pg.embed_pg as embed_pg_module
    assert not hasattr(embed_pg_module, "_bench_original_sample")


@pytest.mark.slow
def test_scaling_quick(ray_session, tmp_path):
    out = str(tmp_path / "scaling.json")
    scaling.main(["--quick", "--torch-threads", "0", "--out", out])
    data, md = _load(out)
    assert [(r["num_env_runners"], r["copies_per_task"]) for r in data["layouts"]] == [(0, 1), (1, 1)]
    for r in data["layouts"]:
        assert r["embedpg_steps_per_s"] > 0 and r["ceiling_steps_per_s"] > 0 and r["ratio_vs_ceiling"] > 0
        assert r["train_batch"] == 4 * 25
    assert md.count("\n| ") == 4  # header, separator and the two layouts


def _check_learning_run(r, num_tasks, success):
    assert r["curve"] and r["finished"], r["method"]
    point = r["curve"][-1]
    assert point["env_steps"] >= r["budget"] or r["solved"]
    for mode in learning.MODES:  # both action modes, every task
        e = point["eval"][mode]
        assert len(e["return"]) == num_tasks and all(np.isfinite(e["return"]))
        if success:
            assert len(e["success"]) == num_tasks and all(0.0 <= x <= 1.0 for x in e["success"])
        else:
            assert "success" not in e
    assert r["solved"] == (success and min(point["eval"]["deterministic"]["success"]) >= 1.0)


@pytest.mark.slow
def test_learning_quick(ray_session, tmp_path):
    out = str(tmp_path / "learning.json")
    learning.main(["--quick", "--torch-threads", "0", "--out", out])
    data, md = _load(out)
    methods = list(families.METHODS)
    assert [r["method"] for r in data["runs"]] == methods
    for r in data["runs"]:
        assert r["family"] == "PointGoals-v0" and r["budget"] == 1000
        _check_learning_run(r, 4, success=True)
    assert [s["method"] for s in data["summary"]] == methods
    assert os.path.getsize(str(tmp_path / "learning.png")) > 1000
    assert "learning.png" in md and "| PointGoals-v0 | 4 | ppo | 0/1 |" in md


# One robot family per simulator package (each quick run is one PPO batch of 4000 steps).
ROBOTS = [("mujoco", "HalfCheetahDir-v0", 2, False), ("metaworld", "MetaWorldMT1-v0", 4, True)]


@pytest.mark.slow
@pytest.mark.parametrize("package,env,num_tasks,success", ROBOTS, ids=[r[1] for r in ROBOTS])
def test_learning_quick_robot_family(ray_session, tmp_path, package, env, num_tasks, success):
    pytest.importorskip(package)  # an optional extra (rllib-embed[mujoco] / [metaworld])
    out = str(tmp_path / "robot.json")
    learning.main(["--env", env, "--quick", "--methods", "literal_seed", "ppo", "--torch-threads", "0",
                   "--out", out])
    data, md = _load(out)
    assert [r["method"] for r in data["runs"]] == ["literal_seed", "ppo"]
    for r in data["runs"]:
        _check_learning_run(r, num_tasks, success)
    assert ("Steps to solve" in md) == success and "return per task, sampled" in md


@pytest.mark.parametrize("name", list(families.FAMILIES))
def test_every_family_gives_ppo_and_embedpg_the_same_env_copies(name):
    """Both methods sample from the same K*D env copies; PPO gets its family's published settings
    and the task's one-hot, EmbedPG's clipped update those settings through from_ppo, the literal
    update the family's tuned config."""
    family = families.FAMILIES[name]
    k = families.default_num_tasks(family)[0]
    ppo = families.ppo_config(family, k, seed=0)
    settings = families.PPO_SETTINGS[family.ppo]
    for method in ("literal_seed", "clipped_seed"):
        embedpg = families.embedpg_config(family, method, k, seed=0)
        copies = k * embedpg.copies_per_task
        assert embedpg.num_env_runners == ppo.num_env_runners == 0
        assert embedpg.num_envs_per_env_runner == ppo.num_envs_per_env_runner == copies
        assert ppo.env_config == {**embedpg.env_config, "flat_obs": True}
        if family.fixed_tasks is None:
            assert embedpg.env_config["num_tasks"] == k
    assert ppo.train_batch_size_per_learner == copies * ppo.rollout_fragment_length
    assert abs(ppo.train_batch_size_per_learner - settings["train_batch"]) < copies
    assert (ppo.minibatch_size, ppo.lr) == (settings["minibatch_size"], settings["lr"])
    assert ppo.num_epochs == settings.get("num_epochs", 30)  # RLlib's PPO default where not published
    assert (ppo._env_to_module_connector is not None) == settings.get("mean_std_filter", False)
    if family.ppo == "mujoco":  # RLlib's MuJoCo settings, with its observation filter
        assert (ppo.lambda_, ppo.clip_param, ppo.vf_clip_param) == (0.95, 0.2, float("inf"))
    # The general recipe: PPO's batch, minibatches, epochs and optimiser, nothing a family adds.
    recipe = families.embedpg_config(family, "clipped_score", k, seed=0)
    assert recipe.update == "clipped" and recipe.estimator == "score"
    assert k * recipe.copies_per_task * recipe.rollout_fragment_length == ppo.train_batch_size_per_learner
    assert (recipe.minibatch_size, recipe.num_epochs, recipe.lr, recipe.gamma, recipe.lambda_) == \
        (ppo.minibatch_size, ppo.num_epochs, ppo.lr, ppo.gamma, ppo.lambda_)
    assert recipe.normalize_observations == settings.get("mean_std_filter", False)
    assert family.clipped_extra == {}


def test_the_suite_families_are_built_as_a_user_would_and_hide_the_task():
    """bench/suite_envs.py: K tasks through MultiTaskEnv; the policy's observation is the same
    whichever the task (Reacher's goal is taken out of it); success is reported."""
    import numpy as np
    import suite_envs
    assert set(families.SUITE) == {f"{name}-v0" for name in suite_envs.SUITE}
    for name, (_, tasks) in suite_envs.SUITE.items():
        env = suite_envs.creator(name)({})
        assert env.num_tasks == len(tasks)
        first = []
        for k in range(env.num_tasks):
            env.set_task(k)
            obs, _ = env.reset(seed=3)
            first.append(obs["obs"])
            _, reward, _, _, info = env.step(env.action_space.sample())
            assert np.isfinite(reward) and "success" in info and info["task_index"] == k
        assert all(np.array_equal(first[0], o) for o in first[1:]), name  # the task is not in the observation
        env.close()
    with pytest.raises(ValueError, match="'num_tasks' must be an int in"):
        suite_envs.creator("PendulumTargets")({"num_tasks": 5})


BAD_ARGS = {
    "unknown env": (["--env", "CartPole-v1"], "--env: unknown family 'CartPole-v1'"),
    "unknown method": (["--methods", "sac"], "--methods: unknown method 'sac'"),
    "fixed K": (["--env", "HalfCheetahDir-v0", "--num-tasks", "4"], "--num-tasks: HalfCheetahDir-v0 has K=2"),
    "K below 1": (["--num-tasks", "0"], "--num-tasks: K must be >= 1"),
}


@pytest.mark.parametrize("case", list(BAD_ARGS))
def test_learning_bad_arguments_get_one_line_errors(case):
    argv, message = BAD_ARGS[case]
    with pytest.raises(ValueError) as e:
        learning.parse_args(argv)
    assert str(e.value).startswith(message) and "\n" not in str(e.value)


def test_learning_clipped_methods_take_ppos_batch_and_minibatches():
    _, family = families.family_of("PointGoals-v0")
    config = families.embedpg_config(family, "clipped_seed", 8, seed=0)
    assert config.update == "clipped" and config.num_epochs == 10 and config.minibatch_size == 128
    assert 8 * config.copies_per_task * config.rollout_fragment_length <= 1000  # PPO's batch
    assert families.embedpg_config(family, "clipped_seed", 8, seed=0, train_batch=400).rollout_fragment_length == 25
    assert families.embedpg_config(family, "literal_seed", 4, seed=0).update == "literal"


@pytest.mark.parametrize("argv", [["--training", "[1]"], ["--budget", "0"], ["--eval-every", "-5"]])
def test_learning_bad_numbers_and_json_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        learning.parse_args(argv)
    assert argv[0] in capsys.readouterr().err


def test_learning_methods_map_to_embedpg_training_fields():
    assert families.method_training("clipped_unbiased") == {"update": "clipped", "estimator": "unbiased"}
    assert families.method_training("literal_seed") == {"update": "literal", "estimator": "seed"}
    assert families.method_training("ppo") == {}


def test_learning_render_merges_saved_results_and_reads_older_files(tmp_path):
    old = os.path.join(common.RESULTS_DIR, "learning_k4.json")  # before --env/--methods: embedpg_seed, ...
    out = str(tmp_path / "merged.json")
    data = learning.main(["--render", old, "--out", out])
    _, md = _load(out)
    with open(old) as f:
        runs = json.load(f)["runs"]
    assert len(data["runs"]) == len(runs)
    assert {r["method"] for r in data["runs"]} == {"literal_seed", "literal_unbiased", "ppo"}
    ppo_solved = sum(r["solved"] for r in runs if r["method"] == "ppo")
    assert f"| PointGoals-v0 | 4 | ppo | {ppo_solved}/3 |" in md


def test_learning_render_takes_chosen_methods_of_a_file(tmp_path):
    """FILE:m1,m2 merges only those methods' runs of FILE (an old file's PPO beside new EmbedPG
    runs); aliases of older files count as their current names; unknown methods are refused."""
    old = os.path.join(common.RESULTS_DIR, "learning_k4.json")
    out = str(tmp_path / "merged.json")
    data = learning.main(["--render", f"{old}:ppo,literal_seed", "--out", out])
    with open(old) as f:
        runs = json.load(f)["runs"]
    assert {r["method"] for r in data["runs"]} == {"literal_seed", "ppo"}
    assert len(data["runs"]) == sum(r["method"] in ("ppo", "embedpg_seed", "literal_seed") for r in runs)
    with pytest.raises(SystemExit, match="unknown methods"):
        learning.main(["--render", f"{old}:bogus", "--out", out])


@pytest.mark.slow
def test_memory_case_and_table(ray_session):
    case = memory.run_case({"algo": "embedpg", "num_tasks": 4, "history_len": 4}, iterations=1, torch_threads=0)
    for role in ("driver_mib", "env_runner_mib", "learner_mib"):
        assert 50 < case[role] < 24 * 1024, role  # MiB, within the machine
    floor = memory.import_floor()
    assert 10 < floor < case["driver_mib"]
    md = memory.markdown({"cases": [case], "settings": {"iterations": 1, "import_floor_mib": floor,
                                                        "machine_after": common.machine()}})
    assert "| embedpg | 4 | 4 | 200 |" in md
    assert memory.cases(memory.parse_args(["--quick"])) == [
        {"algo": "embedpg", "num_tasks": 4, "history_len": 4}, {"algo": "ppo", "num_tasks": 4, "history_len": None}]


def test_make_docs_shows_the_generality_suite_and_lists_every_earlier_learning_result():
    import make_docs
    sections = make_docs.generality_sections()
    assert sections[0][1] == "generality.md"
    saved = sorted(f for f in os.listdir(common.RESULTS_DIR) if f.startswith("generality_") and f.endswith(".md"))
    assert [md for _, md in sections[1:len(saved) + 1]] == saved
    listed = make_docs.superseded_learning()
    earlier = sorted(f for f in os.listdir(common.RESULTS_DIR) if f.startswith("learning") and f.endswith(".json")
                     and "_recipe_vs_ppo" not in f)
    assert earlier and all(f"`{name}`" in listed for name in earlier)
    assert "| PointGoals-v0 | 4 | embedpg_seed, embedpg_unbiased, ppo |" in listed  # learning_k4.json


def test_learning_saves_a_run_under_way_after_each_evaluation(ray_session):
    args = learning.parse_args(["--quick", "--eval-every", "400", "--methods", "literal_seed", "--torch-threads", "0"])
    args.eval_every = 400  # --quick sets one evaluation at the budget; here two before it
    saved = []
    run = learning.run_one("PointGoals-v0", "literal_seed", 4, 0, 1000, args,
                           save=lambda r: saved.append(json.loads(json.dumps(r))))
    assert [r["finished"] for r in saved] == [False, False] and run["finished"]
    assert [len(r["curve"]) for r in saved] == [1, 2] and len(run["curve"]) == 3
    assert [p["env_steps"] for p in run["curve"]] == [400, 800, 1000]  # EmbedPG: 200 env steps per iteration
