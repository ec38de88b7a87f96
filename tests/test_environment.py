"""environment.yml, pyproject.toml and constraints.txt pin the same packages at the same versions."""

from __future__ import annotations

import re
import tomllib

import yaml

PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)\s*$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines) -> dict[str, str]:
    out = {}
    for line in lines:
        match = PIN.match(line)
        if match:
            out[canonical(match.group(1))] = match.group(3)
    return out


def pyproject_pins(root) -> dict[str, str]:
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    lines = list(project["dependencies"])
    for group in project["optional-dependencies"].values():
        lines += [spec for spec in group if not spec.startswith("lrlab")]
    return pins(lines)


def environment_pins(root) -> dict[str, str]:
    env = yaml.safe_load((root / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return pins(pip_section)


def test_every_direct_dependency_is_pinned_exactly(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"]) + [s for g in project["optional-dependencies"].values() for s in g]
    loose = [s for s in specs if not s.startswith("lrlab[") and not PIN.match(s)]
    assert loose == [], f"not pinned with ==: {loose}"


def test_environment_yml_matches_pyproject(root):
    assert environment_pins(root) == pyproject_pins(root)


def test_environment_yml_python_matches_pyproject(root):
    env = yaml.safe_load((root / "environment.yml").read_text())
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    requires = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    assert python == ["python=3.11"] and requires == "==3.11.*"


def test_constraints_agree_with_direct_pins(root):
    locked = pins((root / "constraints.txt").read_text().splitlines())
    direct = pyproject_pins(root)
    disagree = {name: (version, locked.get(name)) for name, version in direct.items() if locked.get(name) != version}
    assert disagree == {}, f"pyproject pin vs constraints.txt: {disagree}"


def test_required_pins(root):
    direct = pyproject_pins(root)
    assert direct["torch"] == "2.13.0"
    assert direct["tensorflow-cpu"] == "2.21.0"
    assert int(direct["jupyter-book"].split(".")[0]) < 2
