"""README.md's Python snippets, run as written (the checkpoint placeholder replaced by one the
first snippet's algorithm saves)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
PLACEHOLDER = "/path/to/embedpg_checkpoint"


@pytest.mark.slow
def test_every_python_snippet_of_the_readme_runs(ray_session, tmp_path, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 4
    namespace = {"__name__": "readme"}
    algos = []
    try:
        for i, code in enumerate(blocks):
            if PLACEHOLDER in code:
                if not (tmp_path / "ckpt").exists():
                    algos[0].save_to_path(str(tmp_path / "ckpt"))
                code = code.replace(PLACEHOLDER, str(tmp_path / "ckpt"))
            exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
            if "algo" in namespace and (not algos or namespace["algo"] is not algos[-1]):
                algos.append(namespace["algo"])
    finally:
        for algo in algos:
            algo.stop()
    printed = capsys.readouterr().out.split()
    assert len(printed) == 10  # the first snippet's ten returns
    assert namespace["config"].env == "rllib_embed/SkillSpace-v0"  # the transfer snippet's PPO config
    sweep = namespace["sweep"]  # z = (1-w) mu_0 + w mu_1 over 11 weights
    assert len(sweep.weights) == len(sweep.rollouts) == 11 and sweep.final_observations().shape[:2] == (11, 3)
