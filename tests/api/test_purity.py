"""The API package knows nothing of Home Assistant and imports only its runtime."""

import ast
from pathlib import Path
import sys

import custom_components.blink_wallet.api as api_package

PACKAGE = Path(api_package.__file__).parent
# Home Assistant ships aiohttp and orjson; msgspec is the manifest's requirement.
# graphql-core is for tests only.
RUNTIME_THIRD_PARTY = {"aiohttp", "msgspec", "orjson"}


def imports_of(path: Path) -> list[tuple[str, int]]:
    """Every module a file imports, as (name, relative level)."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_the_package_has_modules_to_scan() -> None:
    assert {p.name for p in PACKAGE.glob("*.py")} >= {
        "__init__.py",
        "client.py",
        "websocket.py",
        "models.py",
        "queries.py",
        "exceptions.py",
        "const.py",
    }


def test_no_home_assistant_import() -> None:
    offenders = [
        f"{path.name}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name, level in imports_of(path)
        if level == 0 and name.split(".")[0] == "homeassistant"
    ]

    assert offenders == []


def test_relative_imports_stay_inside_the_package() -> None:
    offenders = [
        f"{path.name}: {'.' * level}{name}"
        for path in PACKAGE.rglob("*.py")
        for name, level in imports_of(path)
        if level > 1
    ]

    assert offenders == []


def test_only_the_standard_library_aiohttp_msgspec_and_orjson_are_imported() -> None:
    allowed = set(sys.stdlib_module_names) | RUNTIME_THIRD_PARTY | {"__future__"}
    offenders = [
        f"{path.name}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name, level in imports_of(path)
        if level == 0 and name.split(".")[0] not in allowed
    ]

    assert offenders == []
