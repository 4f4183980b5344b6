"""The shipped translations cover exactly the keys of strings.json.

translations/en.json is generated from strings.json by scripts/translations.py;
the other languages are written by hand and must keep every key and placeholder.
"""

import importlib.util
import json
from pathlib import Path
import re
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).parent.parent
INTEGRATION_DIR = REPO / "custom_components" / "blink_wallet"
TRANSLATIONS_DIR = INTEGRATION_DIR / "translations"
LANGUAGES = ("es", "pt", "de", "fr")
PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text("utf-8"))
    assert isinstance(data, dict), f"{path.name} is not a JSON object"
    return data


def _flatten(node: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Map each key path ("config.step.user.title") to its text."""
    flat: dict[str, str] = {}
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            assert isinstance(value, str), f"{path} is not a string"
            flat[path] = value
    return flat


def _translations_script() -> ModuleType:
    path = REPO / "scripts" / "translations.py"
    spec = importlib.util.spec_from_file_location("blink_wallet_translations", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def english() -> dict[str, str]:
    return _flatten(_load(TRANSLATIONS_DIR / "en.json"))


def test_en_json_is_built_from_strings_json() -> None:
    built = _translations_script().build()
    assert (TRANSLATIONS_DIR / "en.json").read_text("utf-8") == built, (
        "translations/en.json is stale: run scripts/translations"
    )


def test_en_json_has_the_keys_of_strings_json(english: dict[str, str]) -> None:
    assert set(english) == set(_flatten(_load(INTEGRATION_DIR / "strings.json")))


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_has_exactly_the_keys_of_strings_json(language: str) -> None:
    strings = set(_flatten(_load(INTEGRATION_DIR / "strings.json")))
    translated = set(_flatten(_load(TRANSLATIONS_DIR / f"{language}.json")))
    assert sorted(strings - translated) == [], "missing keys"
    assert sorted(translated - strings) == [], "keys not in strings.json"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_keeps_every_placeholder(
    language: str, english: dict[str, str]
) -> None:
    translated = _flatten(_load(TRANSLATIONS_DIR / f"{language}.json"))
    wrong = {
        path: (
            sorted(set(PLACEHOLDER.findall(text))),
            sorted(set(PLACEHOLDER.findall(translated[path]))),
        )
        for path, text in english.items()
        if path in translated
        and set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(translated[path]))
    }
    assert wrong == {}, "placeholders differ from English (English, translation)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translation_is_resolved_text(language: str) -> None:
    for path, text in _flatten(_load(TRANSLATIONS_DIR / f"{language}.json")).items():
        assert text.strip(), f"{path} is empty"
        assert "[%key:" not in text, f"{path} holds an unresolved reference"
