"""docs/blink-fidelity.md names only tests and simulator files that exist."""

from pathlib import Path
import re

ROOT = Path(__file__).parent.parent
DOC = ROOT / "docs" / "blink-fidelity.md"
FACTS = 14


def _rows() -> list[list[str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) == 5 and cells[0] not in {"#", "---"}:
            rows.append(cells)
    return rows


def _tests(cell: str) -> list[tuple[str, str]]:
    """(file, test) pairs; `::name` continues the file named before it."""
    found: list[tuple[str, str]] = []
    current = ""
    for ref in re.findall(r"`([^`]*::[^`]+)`", cell):
        path, name = ref.split("::")
        current = path or current
        found.append((current, name))
    return found


def test_every_fact_has_a_row_with_a_blink_file_and_tests() -> None:
    numbers = {row[0].rstrip("ab") for row in _rows()}
    assert {str(n) for n in range(1, FACTS + 1)} <= numbers
    for row in _rows():
        assert "`" in row[2], row[0]
        assert _tests(row[4]) or "test_" in row[4], row[0]


def test_every_test_named_exists() -> None:
    for row in _rows():
        for path, name in _tests(row[4]):
            source = ROOT / "tests" / path
            assert source.is_file(), f"row {row[0]}: {path}"
            assert re.search(rf"def {re.escape(name)}\b", source.read_text()), (
                f"row {row[0]}: {path}::{name}"
            )


def test_every_simulator_file_named_exists() -> None:
    for row in _rows():
        for name in re.findall(r"`([a-z_]+\.(?:py|graphql))`", row[3]):
            assert (ROOT / "tests" / "simulator" / name).is_file(), (
                f"row {row[0]}: {name}"
            )
