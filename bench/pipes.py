"""JSON lines between the driver and its processes (stdin/stdout pipes)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
import json
from pathlib import Path
import sys
from typing import IO, Any, Final, Self

# A latency result carries a few thousand timestamps on one line.
LINE_LIMIT: Final = 1 << 26


def say(message: dict[str, Any]) -> None:
    """Write one JSON line to stdout (the driver reads it)."""
    sys.stdout.write(json.dumps(message, separators=(",", ":")) + "\n")
    sys.stdout.flush()


async def read_lines(stream: IO[str]) -> AsyncIterator[str]:
    """Yield the lines of a pipe (stdin) without blocking the event loop."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), stream
    )
    try:
        while line := await reader.readline():
            yield line.decode()
    finally:
        transport.close()


class ChildError(RuntimeError):
    """A child process failed or answered with an error."""


class Child:
    """A process of the benchmark, spoken to in JSON lines."""

    def __init__(
        self, name: str, process: asyncio.subprocess.Process, log: Path
    ) -> None:
        """Wrap a started process; its stderr goes to `log`."""
        self.name = name
        self.process = process
        self.log = log

    @classmethod
    async def start(
        cls,
        name: str,
        args: Sequence[str],
        log: Path,
        env: dict[str, str] | None = None,
    ) -> Self:
        """Start `python -m ...` with pipes; stderr is appended to `log`."""
        with log.open("ab") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *args,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
                limit=LINE_LIMIT,
                env=env,
            )
        return cls(name, process, log)

    async def read(self, seconds: float = 60.0) -> dict[str, Any]:
        """Read the next JSON line; ChildError when the process ended instead."""
        assert self.process.stdout is not None  # noqa: S101 - started with a pipe
        try:
            async with asyncio.timeout(seconds):
                line = await self.process.stdout.readline()
        except TimeoutError:
            msg = f"{self.name} said nothing for {seconds:.0f} s (see {self.log})"
            raise ChildError(msg) from None
        if not line:
            code = await self.process.wait()
            msg = f"{self.name} exited with {code} (see {self.log})"
            raise ChildError(msg)
        message: dict[str, Any] = json.loads(line)
        if "error" in message:
            msg = f"{self.name}: {message['error']}"
            raise ChildError(msg)
        return message

    def tell(self, command: dict[str, Any]) -> None:
        """Send one command without waiting for an answer."""
        assert self.process.stdin is not None  # noqa: S101 - started with a pipe
        self.process.stdin.write((json.dumps(command) + "\n").encode())

    async def ask(
        self, command: dict[str, Any], seconds: float = 60.0
    ) -> dict[str, Any]:
        """Send one command and return its answer."""
        self.tell(command)
        return await self.read(seconds)

    async def finish(self, seconds: float = 30.0) -> int:
        """Close stdin and wait for the exit; kill it if it lingers."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(seconds):
                return await self.process.wait()
        except TimeoutError:
            self.process.kill()
            return await self.process.wait()
