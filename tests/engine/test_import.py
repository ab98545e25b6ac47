"""The engine stands alone: it imports and renders without Home Assistant."""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys
import textwrap

ENGINE = Path(__file__).resolve().parents[2] / "custom_components" / "asmr" / "engine"

_SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import sys

    class NoHomeAssistant(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "homeassistant" or name.startswith("homeassistant."):
                raise ImportError(f"the engine must not import {name}")
            return None

    sys.meta_path.insert(0, NoHomeAssistant())
    sys.path.append(sys.argv[1])
    import engine

    blocks = list(engine.render(engine.resolve_scene("rain_on_window"), stop=48000))
    assert sum(len(b) for b in blocks) == 48000
    assert "homeassistant" not in sys.modules
    print("ok", len(engine.TRIGGERS))
    """
)


def test_engine_imports_and_renders_without_home_assistant() -> None:
    """With homeassistant refused, the engine still imports and renders a second."""
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(ENGINE.parent)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["ok", "16"]


def test_no_engine_module_names_home_assistant() -> None:
    """No engine source imports homeassistant or the integration around it."""
    sources = sorted(ENGINE.rglob("*.py"))
    assert len(sources) >= 20
    for source in sources:
        tree = ast.parse(source.read_text(), filename=str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for name in names:
                assert not name.startswith(("homeassistant", "custom_components")), (
                    f"{source.name} imports {name}"
                )
