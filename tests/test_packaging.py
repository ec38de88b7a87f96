"""Licences, citation, changelog and package metadata: what a Python or Jupyter user looks for.

CITATION.cff is validated against the Citation File Format 1.2.0 JSON schema, vendored in
tests/data (copied unchanged from the cffconvert 2.0.0 package: cffconvert itself pins
jsonschema<4, which the book's environment cannot take). No network.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile

import jsonschema
import pytest
import tomllib
import yaml

import lrlab

CFF_SCHEMA = "tests/data/cff-1.2.0-schema.json"


def project(root) -> dict:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]


def citation(root) -> dict:
    # CFF is YAML; load every scalar as YAML 1.2 would read it into the schema's types
    return yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))


def test_citation_cff_is_valid_cff_1_2_0(root):
    schema = json.loads((root / CFF_SCHEMA).read_text())
    assert schema["$id"] == "https://citation-file-format.github.io/1.2.0/schema.json"
    cff = citation(root)
    assert cff["cff-version"] == "1.2.0"
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(cff), key=lambda e: list(e.path))
    assert errors == [], "CITATION.cff: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_the_schema_rejects_a_broken_citation(root):
    schema = json.loads((root / CFF_SCHEMA).read_text())
    broken = dict(citation(root), authors=[], version=None)
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


def test_citation_version_and_licence_are_the_packages(root):
    cff = citation(root)
    assert str(cff["version"]) == lrlab.__version__
    assert cff["license"] == project(root)["license"]


def test_version_is_typed_in_one_place(root):
    proj = project(root)
    assert "version" not in proj and "version" in proj["dynamic"]
    setuptools_cfg = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools_cfg["dynamic"]["version"] == {"attr": "lrlab.__version__"}
    assigned = re.findall(r"^__version__\s*=", (root / "lrlab" / "__init__.py").read_text(), re.M)
    assert len(assigned) == 1
    others = [p.name for p in (root / "lrlab").glob("*.py")
              if p.name != "__init__.py" and re.search(r"^__version__\s*=", p.read_text(), re.M)]
    assert others == []


def test_installed_metadata_has_the_version(root):
    from importlib.metadata import version

    assert version("lrlab") == lrlab.__version__, "reinstall: pip install -c constraints.txt -e '.[all]'"


def test_changelog_keeps_a_changelog(root):
    text = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "keepachangelog.com" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions[0] == "Unreleased"
    assert lrlab.__version__ in versions, f"CHANGELOG.md has no section for {lrlab.__version__}"
    # every version section records re-made outputs and changed verdicts, even if "None"
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    for section in sections:
        name = section.splitlines()[0]
        assert "### Re-made outputs" in section, f"CHANGELOG.md [{name}] lacks 'Re-made outputs'"
        assert "### Changed verdicts" in section, f"CHANGELOG.md [{name}] lacks 'Changed verdicts'"


def test_licences_ship_and_are_stated(root):
    mit = (root / "LICENSE").read_text()
    assert mit.startswith("MIT License") and "Permission is hereby granted, free of charge" in mit
    assert project(root)["license"] == "MIT"
    cc = (root / "LICENSES" / "CC-BY-4.0.txt").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in cc
    notice = (root / "LICENSE-text.md").read_text()
    assert "https://creativecommons.org/licenses/by/4.0/" in notice
    readme = (root / "README.md").read_text()
    assert "MIT" in readme and "CC BY 4.0" in readme
    footer = yaml.safe_load((root / "_config.yml").read_text())["html"]["extra_footer"]
    assert "CC BY 4.0" in footer and "MIT" in footer


def test_project_urls_point_at_what_ships(root):
    urls = project(root)["urls"]
    assert {"Homepage", "Documentation", "Changelog"} <= set(urls)
    for name, url in urls.items():
        if "://" not in url:  # a path in the source tree: it must exist (or be the built site)
            assert url.startswith("_build/") or (root / url).exists(), f"[project.urls] {name} = {url}"


def test_wheel_ships_py_typed_and_licences(root, tmp_path):
    """Build the wheel from a copy of the sources (no build/ folder in the checkout)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-text.md"):
        shutil.copy(root / name, src / name)
    shutil.copytree(root / "LICENSES", src / "LICENSES")
    shutil.copytree(root / "lrlab", src / "lrlab", ignore=shutil.ignore_patterns("__pycache__"))
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
         "--disable-pip-version-check", str(src), "-w", str(tmp_path / "dist")],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("lrlab-*.whl")
    assert wheel.name.startswith(f"lrlab-{lrlab.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    assert "lrlab/py.typed" in names
    for licence in ("LICENSE", "LICENSE-text.md", "LICENSES/CC-BY-4.0.txt"):
        assert any(n.endswith(f".dist-info/licenses/{licence}") for n in names), licence
    metadata = zipfile.ZipFile(wheel).read(f"lrlab-{lrlab.__version__}.dist-info/METADATA").decode()
    assert "License-Expression: MIT" in metadata
    assert re.search(r"^Requires-Python: >=3\.1\d", metadata, re.M)


@pytest.mark.parametrize("path", ["jupytext.toml", ".gitattributes"])
def test_notebook_tooling_files_exist(root, path):
    assert (root / path).exists()
