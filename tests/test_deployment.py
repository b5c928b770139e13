"""The cluster deployment files: Ray's cluster launcher config and the KubeRay RayJob.

Neither can be launched here (no cloud account, no Kubernetes); what can be checked is:
the launcher config against Ray's own schema, as `ray up` checks it; the images against
the Ray version this package pins; the RayJob's shape and entrypoint.
"""

import copy
import re
from pathlib import Path

import pytest
import ray
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

CLUSTER = Path(__file__).resolve().parents[1] / "examples" / "cluster"


def _load(name):
    return yaml.safe_load((CLUSTER / name).read_text())


def _ray_image_version(image):
    match = re.fullmatch(r"rayproject/ray:([0-9.]+)-py311-cpu", image)
    assert match, f"not one of Ray's CPU images: {image}"
    return match.group(1)


def test_cluster_launcher_config_passes_rays_schema():
    config = _load("aws-cluster.yaml")
    validate_config(prepare_config(copy.deepcopy(config)))  # what `ray up` does first
    assert _ray_image_version(config["docker"]["image"]) == ray.__version__
    assert any("pip install" in c and "rllib-embed" in c for c in config["setup_commands"])
    broken = copy.deepcopy(config)
    broken["available_node_types"]["cpu_worker"]["max_worker"] = 4  # a typo the schema must catch
    with pytest.raises(Exception, match="max_worker"):
        validate_config(prepare_config(broken))


def test_dockerfile_builds_on_the_pinned_ray_image():
    first = next(line for line in (CLUSTER / "Dockerfile").read_text().splitlines() if line.startswith("FROM"))
    assert _ray_image_version(first.split()[1]) == ray.__version__


def test_rayjob_manifest_shape():
    job = _load("kuberay-rayjob.yaml")
    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    cluster = job["spec"]["rayClusterSpec"]
    assert cluster["rayVersion"] == ray.__version__
    head = cluster["headGroupSpec"]["template"]["spec"]["containers"]
    workers = [c for group in cluster["workerGroupSpecs"] for c in group["template"]["spec"]["containers"]]
    assert len({c["image"] for c in head + workers}) == 1, "head and workers must run the same image"
    assert job["spec"]["entrypoint"].split()[:3] == ["rllib", "train", "file"]
