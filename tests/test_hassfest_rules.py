"""The rules of Home Assistant's hassfest that apply here, enforced by the suite.

hassfest ships with Home Assistant's repository, not with the package this suite
installs, so its checks of translations and services are restated here: what
`validate.yml` would run on every push fails here first.
"""

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import re
from typing import Any

from homeassistant.util.yaml import load_yaml_dict
import pytest

from custom_components.blink_wallet.const import DOMAIN

INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN
# hassfest's translation key rule (script/hassfest/translations.py): lower case,
# digits, dash and underscore.
TRANSLATION_KEY = re.compile(r"^[a-z0-9-_]+$")
# hassfest's placeholders for references like "[%key:common::...%]" are values,
# never keys; config flow field names follow the same key rule.
TRANSLATION_FILES = sorted(
    [INTEGRATION / "strings.json", *(INTEGRATION / "translations").glob("*.json")]
)


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _keys(tree: Mapping[str, Any], path: str = "") -> Iterator[str]:
    for key, value in tree.items():
        yield f"{path}{key}"
        if isinstance(value, Mapping):
            yield from _keys(value, f"{path}{key}.")


@pytest.mark.parametrize("path", TRANSLATION_FILES, ids=lambda p: p.name)
def test_every_translation_key_is_lower_case(path: Path) -> None:
    bad = [
        key
        for key in _keys(_json(path))
        if not TRANSLATION_KEY.match(key.rsplit(".", 1)[-1])
    ]
    assert bad == []


def _services() -> dict[str, Any]:
    return load_yaml_dict(str(INTEGRATION / "services.yaml"))


def test_every_translated_select_option_is_translated() -> None:
    strings = _json(INTEGRATION / "strings.json")
    for service, spec in _services().items():
        for field, field_spec in spec.get("fields", {}).items():
            select = field_spec.get("selector", {}).get("select")
            if not select or "translation_key" not in select:
                continue
            options = strings["selector"][select["translation_key"]]["options"]
            for option in select["options"]:
                assert TRANSLATION_KEY.match(option), f"{service}.{field}: {option}"
                assert option in options, f"{service}.{field}: {option}"
            assert field_spec.get("default", select["options"][0]) in select["options"]


def test_every_action_has_an_icon() -> None:
    icons = _json(INTEGRATION / "icons.json")["services"]
    assert set(_services()) == set(icons)
    for service, icon in icons.items():
        assert icon["service"].startswith("mdi:"), service


def test_quality_scale_gives_a_reason_for_every_rule_not_done() -> None:
    # hassfest's quality_scale schema: done, or todo/exempt with a comment.
    rules = load_yaml_dict(str(INTEGRATION / "quality_scale.yaml"))["rules"]
    assert len(rules) >= 50
    for rule, value in rules.items():
        status = value if isinstance(value, str) else value["status"]
        assert status in {"done", "todo", "exempt"}, rule
        if status != "done":
            assert isinstance(value, dict), rule
            assert value.get("comment"), rule
