"""Write translations/en.json from strings.json, resolving Home Assistant's references.

Core integrations get `[%key:common::...%]` resolved by Home Assistant's build; a
custom integration ships the resolved text itself. Run: scripts/translations
"""

import json
from pathlib import Path
import re
import sys
from typing import Any

import homeassistant

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "blink_wallet"
REFERENCE = re.compile(r"\[%key:([a-z0-9_:]+)%\]")


def _lookup(tree: dict[str, Any], path: str) -> str:
    node: Any = tree
    for part in path.split("::"):
        node = node[part]
    if not isinstance(node, str):
        msg = f"{path} is not a string"
        raise TypeError(msg)
    return node


def resolve(node: object, own: dict[str, Any], core: dict[str, Any]) -> object:
    """Replace every reference in `node` with the text it points at."""
    if isinstance(node, dict):
        return {key: resolve(value, own, core) for key, value in node.items()}
    if isinstance(node, str):
        return REFERENCE.sub(
            lambda m: (
                _lookup(core, m[1])
                if m[1].startswith("common::")
                else _lookup(own, m[1].removeprefix("component::blink_wallet::"))
            ),
            node,
        )
    return node


def build() -> str:
    """Return the text of translations/en.json."""
    core = json.loads(
        (Path(homeassistant.__file__).parent / "strings.json").read_text("utf-8")
    )
    own = json.loads((INTEGRATION / "strings.json").read_text("utf-8"))
    return json.dumps(resolve(own, own, core), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    target = INTEGRATION / "translations" / "en.json"
    if "--check" in sys.argv:
        sys.exit(target.read_text("utf-8") != build())
    target.write_text(build(), "utf-8")
