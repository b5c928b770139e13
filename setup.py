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
        "ray[rllib]==2.60.0",
        "torch>=2.2",
        "gymnasium>=1.0",
        "numpy",
    ],
    extras_require={"test": ["pytest>=7"], "bench": ["matplotlib"]},
)
