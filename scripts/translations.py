"""Write translations/en.json from strings.json, resolving [%key:...%] references.

Home Assistant resolves these references only for core integrations; a custom
integration ships the resolved English file.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "asmr"
REFERENCE = re.compile(r"\[%key:component::asmr::([a-z0-9_:]+)%\]")


def resolve(strings: dict[str, Any]) -> dict[str, Any]:
    """Return the strings with every reference to another string replaced by it."""

    def lookup(path: str) -> str:
        node: Any = strings
        for part in path.split("::"):
            node = node[part]
        if not isinstance(node, str):
            raise TypeError(f"reference {path} is not a string")
        return node

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, str):
            return REFERENCE.sub(lambda match: lookup(match.group(1)), node)
        return node

    resolved: dict[str, Any] = walk(strings)
    return resolved


def render() -> str:
    """Return the text of translations/en.json."""
    strings = json.loads((PACKAGE / "strings.json").read_text(encoding="utf-8"))
    return json.dumps(resolve(strings), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write translations/en.json, or with --check report whether it is stale."""
    target = PACKAGE / "translations" / "en.json"
    text = render()
    if "--check" in sys.argv[1:]:
        if target.read_text(encoding="utf-8") != text:
            print("translations/en.json is stale: run scripts/lint")
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
