"""Smoke tests of the benchmark scripts (bench/): they run end to end and write the promised
JSON keys and markdown. Tiny settings; no timing is asserted (speed is the benchmarks' job)."""

import json
import os
import sys

import pytest

BENCH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench")
sys.path.insert(0, BENCH)

import common  # noqa: E402
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
    # The timing wrappers are gone once the algorithms are stopped.
    import rllib_embed.embed_pg.embed_pg as embed_pg_module
    assert not hasattr(embed_pg_module, "_bench_original_sample")


def test_scaling_quick(ray_session, tmp_path):
    out = str(tmp_path / "scaling.json")
    scaling.main(["--quick", "--torch-threads", "0", "--out", out])
    data, md = _load(out)
    assert [(r["num_env_runners"], r["copies_per_task"]) for r in data["layouts"]] == [(0, 1), (1, 1)]
    for r in data["layouts"]:
        assert r["embedpg_steps_per_s"] > 0 and r["ceiling_steps_per_s"] > 0 and r["ratio_vs_ceiling"] > 0
        assert r["train_batch"] == 4 * 25
    assert md.count("\n| ") == 4  # header, separator and the two layouts


def test_learning_quick(ray_session, tmp_path):
    out = str(tmp_path / "learning.json")
    learning.main(["--quick", "--torch-threads", "0", "--out", out])
    data, md = _load(out)
    assert {r["method"] for r in data["runs"]} == set(learning.METHODS)
    for r in data["runs"]:
        assert r["curve"], r["method"]
        point = r["curve"][-1]
        assert point["env_steps"] >= 1000 and len(point["eval_success"]) == 4
        assert all(0.0 <= x <= 1.0 for x in point["eval_success"])
        assert r["solved"] == (point["eval_min_success"] >= 1.0)
    assert len(data["summary"]) == 3
    assert os.path.getsize(str(tmp_path / "learning.png")) > 1000
    assert "learning.png" in md


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
