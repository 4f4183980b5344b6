"""Benchmark of Blink pushes: this project's client against gql and a bare floor.

`scripts/bench` (or `python -m bench`) runs it; docs/benchmarks.md explains the
figures. Every client runs in its own process, the frame server in another.
"""
