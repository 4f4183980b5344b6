"""Fail when any one module's test coverage is below the target (default 95 %).

Reads the coverage data of the run just made (COVERAGE_FILE) and judges every
module of the integration, its client and the simulator on its own, branches
included: a total above the target can hide one module far below it.
"""

import argparse
import json
from pathlib import Path
import sys

import coverage

MEASURED = ["custom_components/blink_wallet/*", "tests/simulator/*"]


def main() -> int:
    """Print each module below the target; the exit code says whether any was."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=float, nargs="?", default=95.0)
    target: float = parser.parse_args().target
    cov = coverage.Coverage()
    cov.load()
    report = Path(cov.get_data().data_filename()).with_suffix(".per-module.json")
    cov.json_report(outfile=str(report), include=MEASURED)
    files = json.loads(report.read_text())["files"]
    below = {
        name: data["summary"]["percent_covered"]
        for name, data in sorted(files.items())
        if data["summary"]["percent_covered"] < target
    }
    for name, percent in below.items():
        print(f"{name}: {percent:.1f} % (target {target:g} %)")
    print(f"{len(files)} modules measured, {len(below)} below {target:g} %")
    return 1 if below else 0


if __name__ == "__main__":
    sys.exit(main())
