"""manifest.json and hacs.json hold what Home Assistant's loader and HACS require.

hassfest cannot run here, so the manifest is loaded through Home Assistant's own
loader and checked against the rules hassfest and HACS apply to a custom integration.
Of HACS's action, the checks that read only the repository are here (hacs.json,
information, images, brand, license); the rest ask GitHub (archived, description,
issues, topics) and run in .github/workflows/validate.yml.
"""

import json
from pathlib import Path
import re
import tomllib
from typing import Any, get_args

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
from homeassistant import config_entries
from homeassistant.const import __version__ as ha_version
from homeassistant.core import HomeAssistant
from homeassistant.loader import Manifest, async_get_integration
from homeassistant.util.yaml import load_yaml_dict

from custom_components.blink_wallet.const import DOMAIN

REPO = Path(__file__).parent.parent
INTEGRATION_DIR = REPO / "custom_components" / DOMAIN

# hassfest's accepted IoT classes, taken from Home Assistant's own constants.
IOT_CLASSES = {
    value
    for name, value in vars(config_entries).items()
    if name.startswith("CONN_CLASS_") and name != "CONN_CLASS_UNKNOWN"
}
# What HACS accepts in hacs.json (https://hacs.xyz/docs/publish/start#hacsjson).
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
    "render_readme",
}


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _repository_url() -> str:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    url: str = pyproject["project"]["urls"]["Repository"]
    return url


async def test_home_assistant_loads_the_manifest(hass: HomeAssistant) -> None:
    integration = await async_get_integration(hass, DOMAIN)

    assert not integration.is_built_in
    assert integration.name == "Blink Wallet"
    assert integration.config_flow
    assert integration.integration_type == "service"
    assert integration.iot_class == "cloud_push"
    # Pinned, sorted, and each also in both test requirements at the same version.
    assert integration.requirements == ["msgspec==0.23.0", "segno==1.6.6"]
    assert integration.requirements == sorted(integration.requirements)
    for requirements in ("requirements_test.txt", "requirements_oldest.txt"):
        pinned = (REPO / requirements).read_text().splitlines()
        for requirement in integration.requirements:
            assert requirement in pinned, (requirement, requirements)
    # The loader blocks a custom integration without a valid version; hold it to semver.
    assert integration.version is not None
    assert AwesomeVersion(integration.version).strategy is AwesomeVersionStrategy.SEMVER


def test_manifest_follows_hassfest_rules() -> None:
    manifest = _json(INTEGRATION_DIR / "manifest.json")

    assert manifest["domain"] == INTEGRATION_DIR.name
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:]), "hassfest wants the other keys sorted"
    assert set(keys) <= set(Manifest.__annotations__)
    assert manifest["iot_class"] in IOT_CLASSES
    assert manifest["integration_type"] in get_args(
        Manifest.__annotations__["integration_type"]
    )
    assert all(owner.startswith("@") for owner in manifest["codeowners"])
    assert manifest["documentation"] == _repository_url()
    assert manifest["issue_tracker"] == f"{_repository_url()}/issues"


def test_hacs_json_is_valid_and_names_the_tested_version() -> None:
    hacs = _json(REPO / "hacs.json")

    assert set(hacs) <= HACS_KEYS
    assert hacs["name"] == "Blink Wallet"
    assert hacs["render_readme"] is True
    # The minimum Home Assistant version is the oldest the suite runs against
    # (scripts/test-oldest, requirements_oldest.txt); README states it.
    oldest = (REPO / "requirements_oldest.txt").read_text(encoding="utf-8")
    assert f"Home Assistant {hacs['homeassistant']}." in oldest
    assert AwesomeVersion(hacs["homeassistant"]) <= AwesomeVersion(ha_version)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"Requires Home Assistant {hacs['homeassistant']} or newer" in readme


def test_hacs_installs_the_release_zip() -> None:
    hacs = _json(REPO / "hacs.json")
    workflow = (REPO / ".github" / "workflows" / "release.yml").read_text("utf-8")

    assert hacs["zip_release"] is True
    assert hacs["filename"] == "blink_wallet.zip"
    assert hacs["filename"] in workflow


def test_brand_images_are_square_pngs_of_the_sizes_home_assistant_serves() -> None:
    brand = INTEGRATION_DIR / "brand"
    for name, size in (("icon.png", 256), ("icon@2x.png", 512)):
        data = (brand / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = (int.from_bytes(data[16:20]), int.from_bytes(data[20:24]))
        assert (width, height) == (size, size), name


def test_the_license_is_the_mit_license_pyproject_declares() -> None:
    # HACS's action fails a repository without a license file.
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    text = (REPO / "LICENSE").read_text(encoding="utf-8")

    assert pyproject["project"]["license"] == "MIT"
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


def test_readme_shows_images_as_hacs_requires() -> None:
    # HACS's "images" check: the README it renders shows at least one image.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    images = re.findall(r"!\[[^\]]+\]\((docs/images/[^)]+\.png)\)", readme)

    assert images
    for image in images:
        assert (REPO / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", image


def test_repository_holds_one_integration() -> None:
    # HACS installs the single folder below custom_components/.
    assert [p.name for p in (REPO / "custom_components").iterdir() if p.is_dir()] == [
        DOMAIN
    ]
    assert (REPO / "README.md").is_file()


def test_every_action_and_field_is_translated() -> None:
    """What hassfest checks for services.yaml: names and descriptions in strings.json."""
    services = load_yaml_dict(INTEGRATION_DIR / "services.yaml")
    strings = _json(INTEGRATION_DIR / "strings.json")["services"]

    assert set(services) == set(strings)
    for name, spec in services.items():
        assert strings[name]["name"], name
        assert strings[name]["description"], name
        fields = spec.get("fields") or {}
        assert set(fields) == set(strings[name].get("fields", {})), name
        for field in fields:
            assert strings[name]["fields"][field]["name"], (name, field)
