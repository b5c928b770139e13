from setuptools import find_packages, setup

setup(
    name="rllib-embed",
    version="0.1.0",
    description="EmbedPG: learning a skill embedding space across tasks, as a Ray RLlib algorithm",
    long_description=open("README.md", encoding="utf-8").read() if __import__("os").path.exists("README.md") else "",
    long_description_content_type="text/markdown",
    packages=find_packages(include=["rllib_embed", "rllib_embed.*"]),
    python_requires=">=3.10",
    install_requires=[
        # The RLlib releases the tests pass on (2.60 in CI; 2.58 and 2.59: the RLlib contract,
        # config, update, gradient and resume tests); tests/test_rllib_contract.py pins what
        # EmbedPG relies on, so a newer RLlib that changes it fails there first.
        "ray[rllib]>=2.58,<2.61",
        "torch>=2.2",
        "gymnasium>=1.0",
        "numpy",
        "pyyaml",  # rllib train file: tuned-config YAML (safe_load)
    ],
    extras_require={
        "test": ["pytest>=7", "hypothesis>=6"],  # hypothesis: property tests
        # examples/: quickstart's and tune_sweep's progress bar
        "examples": ["tqdm>=4.60"],
        # pictures (rllib_embed.viz); training and transfer run without it
        "viz": ["matplotlib>=3.5"],
        # bench/: the learning curves' PNG
        "bench": ["matplotlib>=3.5"],
        # Robot task suites (docs/environments.md). Pinned to versions that work with the
        # gymnasium==1.2.2 that ray[rllib] 2.58-2.60 pins; metaworld 3.1.1 pins mujoco==3.3.0.
        "mujoco": ["gymnasium[mujoco]==1.2.2", "mujoco==3.3.0"],
        "metaworld": ["metaworld==3.1.1", "mujoco==3.3.0"],
    },
    entry_points={"console_scripts": ["rllib = rllib_embed.cli.main:main"]},
)
