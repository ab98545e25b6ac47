"""Write translations/<language>.json from strings.json and the per-language sources.

strings.json holds the English strings; ``scripts/translations/<language>.json`` holds
another language's, keyed exactly like strings.json (a value may be a ``[%key:...%]``
reference, resolved within that language). Home Assistant resolves these references
only for core integrations, so a custom integration ships resolved files; the
generated files follow strings.json's order. With ``--check`` nothing is written: it
fails when a generated file is stale, or a source misses a key of strings.json, has
one strings.json does not have, or differs from the English string in placeholders.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
import sys
from typing import Any

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / "asmr"
SOURCES = Path(__file__).resolve().parent / "translations"
REFERENCE = re.compile(r"\[%key:component::asmr::([a-z0-9_:]+)%\]")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def resolve(strings: dict[str, Any]) -> dict[str, Any]:
    """Return the strings with every reference to another string replaced by it."""

    def lookup(path: str) -> str:
        node: Any = strings
        for part in path.split("::"):
            node = node[part]
        if not isinstance(node, str):
            raise TypeError(f"reference {path} is not a string")
        return REFERENCE.sub(lambda match: lookup(match.group(1)), node)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, str):
            return REFERENCE.sub(lambda match: lookup(match.group(1)), node)
        return node

    resolved: dict[str, Any] = walk(strings)
    return resolved


def flatten(node: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Return the leaves of nested strings by their path, like ``config::error::x``."""
    leaves: dict[str, Any] = {}
    for key, value in node.items():
        path = f"{prefix}::{key}" if prefix else key
        if isinstance(value, dict):
            leaves.update(flatten(value, path))
        else:
            leaves[path] = value
    return leaves


def languages() -> list[str]:
    """Return the languages that have a source, like ``["de", "fr"]``."""
    return sorted(path.stem for path in SOURCES.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    """Return a JSON file's object."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def problems(english: dict[str, Any], source: dict[str, Any]) -> list[str]:
    """Return how a language's source fails to match strings.json (empty: it matches)."""
    wanted = flatten(resolve(english))
    try:
        given = flatten(resolve(source))
    except (KeyError, TypeError) as err:
        return [f"a reference does not resolve: {err}"]
    found = [f"missing key {path}" for path in wanted if path not in given]
    found += [
        f"key {path} is not in strings.json" for path in given if path not in wanted
    ]
    for path, text in given.items():
        if path not in wanted:
            continue
        if not isinstance(text, str) or not text.strip():
            found.append(f"{path} is not a text")
        elif (has := set(PLACEHOLDER.findall(text))) != (
            english_has := set(PLACEHOLDER.findall(wanted[path]))
        ):
            found.append(
                f"{path} has placeholders {sorted(has)}, the English {sorted(english_has)}"
            )
    return found


def translated(english: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """Return a language's resolved strings in strings.json's order."""
    strings = resolve(source)

    def walk(node: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        return {
            key: walk(value, given[key]) if isinstance(value, dict) else given[key]
            for key, value in node.items()
        }

    return walk(english, strings)


def render(language: str = "en") -> str:
    """Return the text of translations/<language>.json; ValueError when its source is off."""
    english = load(PACKAGE / "strings.json")
    if language == "en":
        strings = resolve(english)
    else:
        source = load(SOURCES / f"{language}.json")
        if found := problems(english, source):
            raise ValueError(
                "\n".join(f"scripts/translations/{language}.json: {p}" for p in found)
            )
        strings = translated(english, source)
    return json.dumps(strings, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Write every translations/<language>.json, or with --check report what is wrong."""
    check = "--check" in sys.argv[1:]
    found: list[str] = []
    for language in ["en", *languages()]:
        target = PACKAGE / "translations" / f"{language}.json"
        try:
            text = render(language)
        except ValueError as err:
            found.append(str(err))
            continue
        if not check:
            target.write_text(text, encoding="utf-8")
        elif not target.exists() or target.read_text(encoding="utf-8") != text:
            found.append(f"translations/{language}.json is stale: run scripts/lint")
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
