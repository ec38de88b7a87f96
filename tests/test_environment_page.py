"""The Environment page shows the versions the project pins.

book/99-environment/environment.ipynb prints the installed versions and records them
(``environment:versions``); strict nbval re-executes it, so its stored versions are the installed
ones. This test closes the loop: each stored version is the one pyproject.toml or constraints.txt
pins, and Python is environment.yml's, within pyproject.toml's requires-python.
"""

from __future__ import annotations

import re

import tomllib
import yaml
from packaging.specifiers import SpecifierSet

import lrlab

NOTEBOOK = "book/99-environment/environment.ipynb"
PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)\s*$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(root) -> dict[str, str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"]) + [s for group in project["optional-dependencies"].values() for s in group]
    lines += (root / "constraints.txt").read_text().splitlines()
    pins = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            pins[canonical(match.group(1))] = match.group(3)
    return pins


def stored_versions(root) -> dict[str, str]:
    records = lrlab.collect(root / NOTEBOOK)
    values = records.loc[records["name"] == "environment:versions", "value"].tolist()
    assert len(values) == 1, f"{NOTEBOOK} must record environment:versions once, found {len(values)}"
    return values[0]


def test_page_shows_the_frameworks_python_and_tools(root):
    shown = {canonical(name) for name in stored_versions(root)}
    for name in ("python", "torch", "tensorflow-cpu", "keras", "jupyter-book", "sphinx", "papermill", "nbval"):
        assert name in shown, f"the Environment page does not show {name}"


def test_every_version_shown_is_the_pinned_one(root):
    versions = stored_versions(root)
    pins = pinned_versions(root)
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wrong = {}
    for name, version in versions.items():
        key = canonical(name)
        if key == "python":
            # the book's Python: environment.yml's python=X.Y, within pyproject's requires-python
            env = yaml.safe_load((root / "environment.yml").read_text())
            (major_minor,) = [d.split("=", 1)[1] for d in env["dependencies"]
                              if isinstance(d, str) and d.startswith("python=")]
            if not version.startswith(major_minor + ".") or version not in SpecifierSet(project["requires-python"]):
                wrong[name] = (version, f"python={major_minor}, requires-python {project['requires-python']}")
        elif key == "lrlab":
            if version != lrlab.__version__:  # pyproject.toml reads the version from lrlab.__version__
                wrong[name] = (version, lrlab.__version__)
        elif pins.get(key) != version.split("+")[0]:  # torch reports 2.13.0+cpu for the pin 2.13.0
            wrong[name] = (version, pins.get(key, "not pinned"))
    assert wrong == {}, f"Environment page version vs pin (re-execute the page or fix the pin): {wrong}"
