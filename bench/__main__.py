"""`python -m bench [--quick]`: run the benchmark, write JSON and Markdown.

The full run writes docs/benchmarks.json and the generated block of
docs/benchmarks.md. `--quick` is the CI smoke test: a few frames of every
measurement, written under .cache/bench/; it fails only if the benchmark does
not work or the clients disagree on what they received, never on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import replace
import logging
from pathlib import Path
import sys

from . import report
from .driver import FULL, QUICK, benchmark, dump

CACHE = Path(".cache/bench")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="scripts/bench")
    parser.add_argument(
        "--quick", action="store_true", help="smoke test: few frames, no timing"
    )
    parser.add_argument("--reps", type=int, help="repetitions (full: 3, quick: 1)")
    parser.add_argument("--json", type=Path, help="where the JSON goes")
    parser.add_argument("--md", type=Path, help="Markdown file whose block is written")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run; return the exit code (1 when the clients disagree)."""
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="bench: %(message)s", stream=sys.stderr
    )
    settings = QUICK if args.quick else FULL
    if args.reps:
        settings = replace(settings, reps=args.reps)
    name = "quick" if args.quick else "full"
    json_path = args.json or (
        CACHE / "quick.json" if args.quick else Path("docs/benchmarks.json")
    )
    md_path = args.md or (
        CACHE / "quick.md" if args.quick else Path("docs/benchmarks.md")
    )
    command = "scripts/bench" + (" --quick" if args.quick else "")
    document, problems = asyncio.run(benchmark(settings, CACHE / name, command))
    dump(document, json_path)
    report.write(document, md_path)
    print(report.render(document))  # noqa: T201 - the table is the output
    print(f"bench: wrote {json_path} and {md_path}", file=sys.stderr)  # noqa: T201
    if problems:
        print("bench: the clients disagreed:", *problems, sep="\n  ", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
