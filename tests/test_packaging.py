"""What a non-editable install carries: every package, the models, and a ``go1sync`` command."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from typing import Any

import pytest

from go1sync import __version__
from tests.helpers import INSTALLED, run_cli

ROOT = Path(__file__).resolve().parents[1]


def _setuptools() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        config: dict[str, Any] = tomllib.load(file)["tool"]["setuptools"]
    return config


def _packages_here() -> set[str]:
    """The folders of the tree that hold Python code (an ``__init__.py``, or in the tree an
    installed run of the suite gets, any ``.py`` left out of it: none)."""
    return {".".join(init.parent.relative_to(ROOT).parts)
            for init in ROOT.glob("**/__init__.py")
            if not init.relative_to(ROOT).parts[0].startswith((".", "tests", "bench",
                                                               "scripts", "build"))}


@pytest.mark.skipif(INSTALLED, reason="the tree holds no package: the installed test below")
def test_every_package_of_the_code_is_in_the_wheel() -> None:
    """The package list is written out (models/ is mapped into go1sync.models), so a new
    folder left off it would be missing from every install but the editable one."""
    assert _packages_here() | {"go1sync.models"} == set(_setuptools()["packages"])


@pytest.mark.skipif(not INSTALLED, reason="the suite runs against the checkout's code")
def test_every_package_and_model_is_imported_from_the_install() -> None:
    """Against an installed wheel: each listed package comes from site-packages, none from
    this tree, and the installed models are the tree's, file for file."""
    for package in _setuptools()["packages"]:
        spec = importlib.util.find_spec(package)
        assert spec is not None, package
        # go1sync.models holds data only: a namespace package, found by its folder
        places = [spec.origin] if spec.origin else list(spec.submodule_search_locations or [])
        assert places, package
        assert not any(Path(p).resolve().is_relative_to(ROOT) for p in places), package
        assert all("site-packages" in Path(p).parts for p in places), package
    from warehouse.transform import MODELS_DIR

    installed = {p.relative_to(MODELS_DIR) for p in MODELS_DIR.rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
    assert installed == {p.relative_to(ROOT / "models") for p in (ROOT / "models").rglob("*")
                         if p.is_file()}


def test_the_models_ship_as_package_data() -> None:
    setuptools = _setuptools()
    assert setuptools["package-dir"] == {"go1sync.models": "models"}
    globs = setuptools["package-data"]["go1sync.models"]
    shipped = {p for g in globs for p in (ROOT / "models").glob(g)}
    assert shipped == {p for p in (ROOT / "models").rglob("*") if p.is_file()}


def test_no_loose_top_level_module_is_installed() -> None:
    """cli, settings, schedule and console live in go1sync/: an install would otherwise add
    top-level modules named like other packages (``schedule`` shadows one on PyPI)."""
    setuptools = _setuptools()
    assert "py-modules" not in setuptools
    top = {name.split(".")[0] for name in setuptools["packages"]}
    assert top == {"go1sync", "apiclient", "commands", "extract", "load", "reconcile",
                   "warehouse", "sandbox"}
    assert [p.name for p in ROOT.glob("*.py")] == ["cli.py"]  # the checkout's shim alone


def test_version_is_one_line() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"go1sync {__version__}\n"
