"""Tests for the files HACS, hassfest and GitHub read: manifest, hacs.json, workflows."""

from __future__ import annotations

import ast
import json
from pathlib import Path
import sys

from packaging.requirements import Requirement
import yaml

import homeassistant

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "asmr"
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
}
"""The keys HACS 2 accepts in hacs.json (``render_readme`` and ``domains`` are gone)."""


def _imported_packages() -> set[str]:
    """Return the top-level packages the integration imports from outside itself."""
    found: set[str] = set()
    for path in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                found.add(node.module.split(".")[0])
    return found


def test_manifest_lists_what_the_integration_imports() -> None:
    """Every third-party package the code imports is a requirement of the manifest.

    numpy is one Home Assistant ships: the manifest asks only for a version at least as
    new as the one this integration is tested with, which Home Assistant's own pin
    satisfies, so installing the integration never moves Home Assistant's numpy and a
    Home Assistant that moves to a newer numpy still sets the integration up. soundfile,
    which Home Assistant does not ship, is pinned exactly.
    """
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    requirements = {
        (req := Requirement(line)).name: req.specifier
        for line in manifest["requirements"]
    }
    constraints = dict(
        line.split("==")
        for line in (Path(homeassistant.__file__).parent / "package_constraints.txt")
        .read_text(encoding="utf-8")
        .splitlines()
        if "==" in line and not line.startswith("#")
    )
    numpy = requirements["numpy"]
    assert [spec.operator for spec in numpy] == [">="]
    assert numpy.contains(constraints["numpy"])
    assert numpy.contains("9.0")  # no upper bound to break on a later numpy
    assert [spec.operator for spec in requirements["soundfile"]] == ["=="]
    core = {
        "homeassistant",
        "voluptuous",
        "aiohttp",
    }  # Home Assistant's own requirements
    third_party = _imported_packages() - core - set(sys.stdlib_module_names)
    assert third_party <= set(requirements), (
        f"not in the manifest: {third_party - set(requirements)}"
    )


def test_hacs_json_has_only_current_keys() -> None:
    """hacs.json carries no key that HACS 2 rejects."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "ASMR Scenes"


def test_license_is_there() -> None:
    """The repository has a licence, as HACS asks."""
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")


def test_workflows_run_hassfest_hacs_and_the_tests() -> None:
    """The GitHub workflows parse and run hassfest, the HACS action and .ci/run."""
    uses: set[str] = set()
    runs: list[str] = []
    for path in sorted((ROOT / ".github" / "workflows").glob("*.yml")):
        workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert workflow["jobs"], path
        for job in workflow["jobs"].values():
            assert job["runs-on"] == "ubuntu-latest"
            for step in job["steps"]:
                uses.add(step.get("uses", "").split("@")[0])
                runs.append(step.get("run", ""))
    assert "home-assistant/actions/hassfest" in uses
    assert "hacs/action" in uses
    assert any(".ci/run" in run for run in runs)


QUALITY_RULES = {
    "bronze": (
        "action-setup appropriate-polling brands common-modules config-flow "
        "config-flow-test-coverage dependency-transparency docs-actions docs-conditions "
        "docs-high-level-description docs-installation-instructions "
        "docs-removal-instructions docs-triggers entity-event-setup entity-unique-id "
        "has-entity-name runtime-data test-before-configure test-before-setup "
        "unique-config-entry"
    ),
    "silver": (
        "action-exceptions config-entry-unloading docs-configuration-parameters "
        "docs-installation-parameters entity-unavailable integration-owner "
        "log-when-unavailable parallel-updates reauthentication-flow test-coverage"
    ),
    "gold": (
        "devices diagnostics discovery discovery-update-info docs-data-update "
        "docs-examples docs-known-limitations docs-supported-devices "
        "docs-supported-functions docs-troubleshooting docs-use-cases dynamic-devices "
        "entity-category entity-device-class entity-disabled-by-default "
        "entity-translations exception-translations icon-translations "
        "reconfiguration-flow repair-issues stale-devices"
    ),
    "platinum": "async-dependency inject-websession strict-typing",
}
"""Home Assistant's quality scale rules, by tier (hassfest's list)."""


def test_quality_scale_answers_every_rule() -> None:
    """quality_scale.yaml answers every rule; an exemption or a todo says why."""
    rules = yaml.safe_load(
        (INTEGRATION / "quality_scale.yaml").read_text(encoding="utf-8")
    )["rules"]
    expected = {name for names in QUALITY_RULES.values() for name in names.split()}
    assert set(rules) == expected
    for name, answer in rules.items():
        if isinstance(answer, dict):
            assert answer["status"] in {"done", "exempt", "todo"}, name
            if answer["status"] != "done":
                assert answer["comment"].strip(), name
        else:
            assert answer == "done", name
