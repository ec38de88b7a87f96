"""pyproject.toml's ranges, the lock (constraints.txt) and environment.yml agree.

pyproject.toml declares version *ranges*, so that lrlab installs beside other packages;
constraints.txt is the exact lock the stored outputs were made with (scripts/lock.sh makes it);
environment.yml pins the direct dependencies at the lock's versions for conda users.
"""

from __future__ import annotations

import re

import pytest
import tomllib
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

PIN = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?==([^\s;]+)\s*$")


def project(root) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def direct_requirements(root) -> list[Requirement]:
    """Return every requirement of pyproject.toml: dependencies and every extra (not lrlab[...] itself)."""
    proj = project(root)
    specs = list(proj["dependencies"])
    specs += [s for group in proj["optional-dependencies"].values() for s in group]
    reqs = [Requirement(s) for s in specs]
    return [r for r in reqs if canonicalize_name(r.name) != "lrlab"]


def lock(root) -> dict[str, str]:
    """Return constraints.txt as {canonical name: version}; every non-comment line must be an exact pin."""
    out = {}
    for line in (root / "constraints.txt").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = PIN.match(line)
        assert match, f"constraints.txt: not an exact pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in out, f"constraints.txt pins {name} twice"
        out[name] = match.group(3)
    return out


def environment_yml(root) -> dict:
    return yaml.safe_load((root / "environment.yml").read_text())


def environment_pins(root) -> dict[str, str]:
    env = environment_yml(root)
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    out = {}
    for line in pip_section:
        if line.startswith("-"):  # -c constraints.txt, -e .
            continue
        match = PIN.match(line)
        assert match, f"environment.yml: not an exact pin: {line!r}"
        out[canonicalize_name(match.group(1))] = match.group(3)
    return out


def test_direct_dependencies_are_ranges_not_pins(root):
    pinned = [str(r) for r in direct_requirements(root) if any(s.operator in ("==", "===") for s in r.specifier)]
    assert pinned == [], f"pyproject.toml pins exactly (the lock is constraints.txt): {pinned}"
    unbounded = [str(r) for r in direct_requirements(root) if not r.specifier]
    assert unbounded == [], f"pyproject.toml requirement without any version range: {unbounded}"


def test_every_direct_dependency_is_locked(root):
    locked = lock(root)
    missing = sorted({canonicalize_name(r.name) for r in direct_requirements(root)} - set(locked))
    assert missing == [], f"in pyproject.toml but not in constraints.txt (run scripts/lock.sh): {missing}"


def test_lock_satisfies_the_ranges(root):
    locked = lock(root)
    outside = {
        str(r): locked[canonicalize_name(r.name)]
        for r in direct_requirements(root)
        if canonicalize_name(r.name) in locked
        and not r.specifier.contains(Version(locked[canonicalize_name(r.name)]), prereleases=True)
    }
    assert outside == {}, f"constraints.txt pin outside pyproject.toml's range: {outside}"


def test_environment_yml_names_the_direct_dependencies_at_the_locked_versions(root):
    env = environment_pins(root)
    direct = {canonicalize_name(r.name) for r in direct_requirements(root)}
    assert set(env) == direct, (
        f"environment.yml vs pyproject.toml: only in environment.yml {sorted(set(env) - direct)}, "
        f"only in pyproject.toml {sorted(direct - set(env))}")
    locked = lock(root)
    disagree = {name: (version, locked.get(name)) for name, version in env.items() if locked.get(name) != version}
    assert disagree == {}, f"environment.yml pin vs constraints.txt: {disagree}"


def test_environment_yml_installs_against_the_lock(root):
    pip_section = next(d["pip"] for d in environment_yml(root)["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-c constraints.txt" in pip_section and "-e ." in pip_section


def test_environment_python_satisfies_requires_python(root):
    python = [d for d in environment_yml(root)["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert len(python) == 1, f"environment.yml must name python once: {python}"
    version = python[0].split("=", 1)[1]
    assert SpecifierSet(project(root)["requires-python"]).contains(version + ".0")
    assert f"Python {version}." in (root / "constraints.txt").read_text(), "the lock's header names another Python"


def test_extras_exist_and_all_combines_them(root):
    extras = project(root)["optional-dependencies"]
    assert {"tf", "torch", "search", "dask", "book", "test", "all"} <= set(extras)
    (combined,) = extras["all"]
    assert Requirement(combined).extras == set(extras) - {"all"}


@pytest.mark.parametrize(("name", "version"), [("torch", "2.13.0"), ("tensorflow-cpu", "2.21.0")])
def test_required_framework_pins(root, name, version):
    assert lock(root)[name] == version
    (req,) = [r for r in direct_requirements(root) if canonicalize_name(r.name) == name]
    assert req.specifier.contains(version)


def test_jupyter_book_stays_below_2(root):
    assert Version(lock(root)["jupyter-book"]).major < 2
    (req,) = [r for r in direct_requirements(root) if canonicalize_name(r.name) == "jupyter-book"]
    assert not req.specifier.contains("2.0.0")


def test_lock_header_says_how_it_was_made(root):
    header = [line for line in (root / "constraints.txt").read_text().splitlines() if line.startswith("#")]
    assert any("scripts/lock.sh" in line for line in header)
    assert (root / "scripts" / "lock.sh").exists()
