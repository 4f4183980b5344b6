"""The driver: runs every measurement, repetition by repetition, in one run.

It owns no socket: it starts the frame server and one subscriber process per
measurement, tells the server what to send, and joins what each side recorded
with the same system-wide monotonic clock (CLOCK_MONOTONIC on Linux).
Within a repetition the clients run one after the other, in an order that
rotates between repetitions, so that each ratio compares runs made side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
import itertools
import json
import logging
import os
from pathlib import Path
import subprocess
import time
from typing import Any, Final

from .clients import CLIENTS
from .pipes import Child
from .stats import median, ratio, summary

LOGGER = logging.getLogger("bench")
MIB: Final = 1 << 20
# Gaps between the transaction ids of two measurements.
_SEQ_GAP: Final = 1_000


@dataclass(frozen=True, slots=True)
class Settings:
    """How much of everything one run does."""

    reps: int
    throughput_frames: int
    throughput_rounds: int
    latency_frames: int
    latency_warmup: int
    interval_us: int
    ha_frames: int
    reconnect_warmup: int
    reconnect_cycles: int
    down_ms: float
    backoff: float


FULL: Final = Settings(
    reps=3,
    throughput_frames=20_000,
    throughput_rounds=2,
    latency_frames=3_000,
    latency_warmup=100,
    interval_us=1_000,
    ha_frames=2_000,
    reconnect_warmup=20,
    reconnect_cycles=1_000,
    down_ms=2.0,
    backoff=0.001,
)
QUICK: Final = Settings(
    reps=1,
    throughput_frames=2_000,
    throughput_rounds=1,
    latency_frames=300,
    latency_warmup=20,
    interval_us=1_000,
    ha_frames=100,
    reconnect_warmup=5,
    reconnect_cycles=20,
    down_ms=2.0,
    backoff=0.001,
)


def rotated[T](items: Sequence[T], by: int) -> list[T]:
    """`items`, starting at position `by` (each repetition starts elsewhere)."""
    k = by % len(items)
    return [*items[k:], *items[:k]]


class Driver:
    """One benchmark run: a frame server and many short-lived subscribers."""

    def __init__(self, settings: Settings, workdir: Path, *, with_sink: bool) -> None:
        """Keep logs and Home Assistant config dirs under `workdir`."""
        self.settings = settings
        self.workdir = workdir
        self.log = workdir / "processes.log"
        self.with_sink = with_sink
        self.problems: list[str] = []
        self.info: dict[str, Any] = {}
        self._server: Child | None = None
        self._seq = _SEQ_GAP

    # --- plumbing -----------------------------------------------------------

    @property
    def server(self) -> Child:
        """The frame server (started)."""
        if self._server is None:
            msg = "the server is not running"
            raise RuntimeError(msg)
        return self._server

    def seqs(self, count: int) -> int:
        """Reserve `count` fresh frame numbers; return the first."""
        first = self._seq
        self._seq += count + _SEQ_GAP
        return first

    async def start(self) -> None:
        """Start the frame server and read its URLs."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._server = await Child.start("server", ["-m", "bench.server"], self.log)
        self.info = await self.server.read(120)

    async def stop(self) -> None:
        """Stop the frame server."""
        if self._server is not None:
            self._server.tell({"cmd": "quit"})
            await self._server.finish()
            self._server = None

    async def subscriber(self, client: str, mode: str, frames: int) -> Child:
        """Start one subscriber process."""
        return await Child.start(
            f"{client} {mode}",
            [
                "-m",
                "bench.subscriber",
                "--client",
                client,
                "--mode",
                mode,
                "--ws-url",
                self.info["ws_url"],
                "--api-url",
                self.info["api_url"],
                "--api-key",
                self.info["api_key"],
                "--frames",
                str(frames),
                "--backoff",
                str(self.settings.backoff),
            ],
            self.log,
        )

    def problem(self, text: str) -> None:
        """Note a disagreement (the run fails at the end)."""
        LOGGER.error("%s", text)
        self.problems.append(text)

    # --- 1. throughput ---------------------------------------------------------

    async def throughput(self, client: str, first: int) -> dict[str, Any]:
        """Frames absorbed per second and CPU per frame, server sending flat out."""
        n = self.settings.throughput_frames
        sub = await self.subscriber(client, "throughput", n)
        try:
            where = await self.server.ask({"cmd": "wait_sub"}, 60)
            burst = await self.server.ask(
                {"cmd": "burst", **where, "first": first, "count": n}, 300
            )
            result = await sub.read(300)
        finally:
            await sub.finish()
        intervals = max(result["count"] - 1, 1)
        agree = result["complete"] and (
            client == "sink" or result["digest"] == burst["digest"]
        )
        if not agree:
            self.problem(
                f"throughput: {client} received {result['count']} of {n} frames"
                " or other ids than were sent"
            )
        server_cpu = burst["build_cpu_ns"] + burst["write_cpu_ns"]
        return {
            "frames": result["count"],
            "agree": agree,
            "frames_per_s": intervals / (result["wall_ns"] / 1e9),
            "cpu_us_per_frame": result["cpu_ns"] / intervals / 1e3,
            "server_cpu_us_per_frame": server_cpu / n / 1e3,
            "server_write_cpu_us_per_frame": burst["write_cpu_ns"] / n / 1e3,
            "server_write_ms": burst["write_ns"] / 1e6,
            "bytes": burst["bytes"],
        }

    # --- 2. latency ---------------------------------------------------------------

    async def latency(
        self, clients: Sequence[str], first: int
    ) -> dict[str, dict[str, Any]]:
        """Server timestamp to callback, for every client in the same seconds.

        All clients are subscribed at once and the frames take turns between
        them (see the server's `paced`): each client gets a frame at least
        `interval_us` after its last, and a hiccup of the shared machine hits
        them all alike.
        """
        s = self.settings
        total = s.latency_warmup + s.latency_frames
        subs: dict[str, Child] = {}
        targets: list[dict[str, Any]] = []
        try:
            for client in clients:
                subs[client] = await self.subscriber(client, "latency", total)
                targets.append(await self.server.ask({"cmd": "wait_sub"}, 60))
            paced = await self.server.ask(
                {
                    "cmd": "paced",
                    "targets": targets,
                    "first": first,
                    "count": total,
                    "interval_us": s.interval_us,
                },
                total * s.interval_us / 1e6 * 5 + 60,
            )
            results = {client: await sub.read(120) for client, sub in subs.items()}
        finally:
            for sub in subs.values():
                await sub.finish()
        out: dict[str, dict[str, Any]] = {}
        measured_from = first + s.latency_warmup
        for client, send_ns in zip(clients, paced["send_ns"], strict=True):
            result = results[client]
            sent = dict(zip(range(first, first + total), send_ns, strict=True))
            lat = [
                (recv - sent[seq]) / 1e3
                for seq, recv in zip(result["seqs"], result["recv_ns"], strict=True)
                if seq >= measured_from and seq in sent
            ]
            agree = result["complete"] and result["digest"] == paced["digest"]
            if not agree:
                self.problem(
                    f"latency: {client} received {result['count']} of {total} frames"
                    " or other ids than were sent"
                )
            gaps = [b - a for a, b in itertools.pairwise(send_ns)]
            out[client] = {
                "frames": len(lat),
                "agree": agree,
                **{f"{k}_us": v for k, v in summary(lat).items()},
                "mean_gap_us": sum(gaps) / len(gaps) / 1e3 if gaps else 0.0,
            }
        return out

    # --- 3. inside Home Assistant ---------------------------------------------------

    async def home_assistant(self, first: int, rep: int) -> dict[str, Any]:
        """Frame to state written and to bus event; HTTP requests meanwhile."""
        s = self.settings
        ha = await Child.start(
            "home assistant",
            [
                "-m",
                "bench.ha",
                "--ws-url",
                self.info["ws_url"],
                "--api-url",
                self.info["api_url"],
                "--api-key",
                self.info["api_key"],
                "--frames",
                str(s.ha_frames),
                "--base-balance",
                str(self.info["base_balance"]),
                "--config-dir",
                str(self.workdir / f"ha-config-{rep}"),
            ],
            self.log,
        )
        try:
            where = await self.server.ask({"cmd": "wait_sub"}, 120)
            await ha.read(120)  # connected
            # The first push starts the catch-up every start runs (HTTP).
            await self.server.ask({"cmd": "send", **where, "seq": first})
            await ha.read(120)  # ready: caught up, listening
            before = await self.server.ask({"cmd": "http_requests"})
            measured = first + 1
            paced = await self.server.ask(
                {
                    "cmd": "paced",
                    **where,
                    "first": measured,
                    "count": s.ha_frames,
                    "interval_us": s.interval_us,
                },
                s.ha_frames * s.interval_us / 1e6 * 5 + 60,
            )
            result = await ha.read(180)
            after = await self.server.ask({"cmd": "http_requests"})
        finally:
            await ha.finish(60)
        sent = dict(
            zip(range(measured, measured + s.ha_frames), paced["send_ns"], strict=True)
        )
        state = [(ns - sent[seq]) / 1e3 for seq, ns in result["state"] if seq in sent]
        event = [(ns - sent[seq]) / 1e3 for seq, ns in result["event"] if seq in sent]
        agree = len(state) == len(event) == s.ha_frames
        if not agree:
            self.problem(
                f"home assistant: {len(state)} state writes and {len(event)} events"
                f" for {s.ha_frames} frames"
            )
        return {
            "frames": s.ha_frames,
            "agree": agree,
            **{f"state_{k}_us": v for k, v in summary(state).items()},
            **{f"event_{k}_us": v for k, v in summary(event).items()},
            "http_requests_while_healthy": after["http_requests"]
            - before["http_requests"],
            "connected_throughout": result["connected"],
        }

    # --- 4. reconnect -------------------------------------------------------------------

    async def reconnect(self, client: str, first: int) -> dict[str, Any]:
        """Server back to first frame; memory, tasks, sockets over many cycles."""
        s = self.settings
        sub = await self.subscriber(client, "reconnect", 0)
        seq = first

        async def cycle() -> float:
            nonlocal seq
            seq += 1
            back = await self.server.ask(
                {"cmd": "cycle", "seq": seq, "down_ms": s.down_ms}, 30
            )
            got = await sub.read(30)
            if got.get("seq") != seq:
                self.problem(f"reconnect: {client} got {got} instead of frame {seq}")
            return float(got["recv_ns"] - back["t_back"]) / 1e3

        async def sample() -> dict[str, Any]:
            await asyncio.sleep(0.05)
            return await sub.ask({"cmd": "sample"})

        try:
            where = await self.server.ask({"cmd": "wait_sub"}, 60)
            await self.server.ask({"cmd": "send", **where, "seq": seq})
            await sub.read(30)
            for _ in range(s.reconnect_warmup):
                await cycle()
            start = await sample()
            times = [await cycle() for _ in range(s.reconnect_cycles)]
            end = await sample()
            await sub.ask({"cmd": "trace"})
            traced_start = await sample()
            for _ in range(s.reconnect_cycles):
                await cycle()
            traced_end = await sample()
            sub.tell({"cmd": "stop"})
            await sub.read(30)
        finally:
            await sub.finish()
        return {
            "cycles": s.reconnect_cycles,
            **{f"{k}_ms": v / 1e3 for k, v in summary(times).items()},
            "rss_growth_kib": (end["rss"] - start["rss"]) / 1024,
            "traced_growth_kib": (traced_end["traced"] - traced_start["traced"]) / 1024,
            "tasks_delta": max(
                end["tasks"] - start["tasks"],
                traced_end["tasks"] - traced_start["tasks"],
            ),
            "sockets_delta": max(
                end["sockets"] - start["sockets"],
                traced_end["sockets"] - traced_start["sockets"],
            ),
            "tasks": end["tasks"],
            "sockets": end["sockets"],
        }

    # --- the run ----------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        """Every measurement, `reps` times; return the raw runs."""
        s = self.settings
        raw: dict[str, Any] = {
            "throughput": {c: [] for c in (*CLIENTS, "sink")},
            "latency": {c: [] for c in CLIENTS},
            "home_assistant": [],
            "reconnect": {c: [] for c in CLIENTS},
        }

        async def each(
            kind: str,
            count: int,
            clients: Sequence[str],
            order: int,
            measure: Callable[[str, int], Awaitable[dict[str, Any]]],
        ) -> None:
            first = self.seqs(count)  # the same frames for every client
            for client in rotated(clients, order):
                LOGGER.info("%s: %s", kind, client)
                raw[kind][client].append(await measure(client, first))

        await self.start()
        try:
            for rep in range(s.reps):
                LOGGER.info("repetition %d of %d", rep + 1, s.reps)
                clients = [*CLIENTS, "sink"] if self.with_sink else list(CLIENTS)
                for round_ in range(s.throughput_rounds):
                    await each(
                        "throughput",
                        s.throughput_frames,
                        clients,
                        rep * s.throughput_rounds + round_,
                        self.throughput,
                    )
                LOGGER.info("latency: all clients, interleaved")
                first = self.seqs(s.latency_warmup + s.latency_frames)
                for client, result in (
                    await self.latency(rotated(CLIENTS, rep), first)
                ).items():
                    raw["latency"][client].append(result)
                LOGGER.info("home assistant")
                raw["home_assistant"].append(
                    await self.home_assistant(self.seqs(s.ha_frames + 1), rep)
                )
                await each(
                    "reconnect",
                    2 * s.reconnect_cycles + s.reconnect_warmup + 1,
                    CLIENTS,
                    rep,
                    self.reconnect,
                )
        finally:
            await self.stop()
        return raw


# --- summarising -----------------------------------------------------------------


def _medians(runs: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, float]:
    return {key: median([run[key] for run in runs]) for key in keys}


def summarise(raw: dict[str, Any]) -> dict[str, Any]:
    """Medians of the repetitions, ratios of runs made side by side, targets."""
    tp = raw["throughput"]
    lat = raw["latency"]
    ha = raw["home_assistant"]
    rc = raw["reconnect"]
    out: dict[str, Any] = {
        "throughput": {
            c: _medians(
                runs,
                (
                    "frames_per_s",
                    "cpu_us_per_frame",
                    "server_cpu_us_per_frame",
                    "server_write_cpu_us_per_frame",
                ),
            )
            for c, runs in tp.items()
            if runs
        },
        "latency": {
            c: _medians(runs, ("p50_us", "p99_us", "max_us", "mean_gap_us"))
            for c, runs in lat.items()
        },
        "home_assistant": {
            **_medians(
                ha,
                (
                    "state_p50_us",
                    "state_p99_us",
                    "state_max_us",
                    "event_p50_us",
                    "event_p99_us",
                    "event_max_us",
                ),
            ),
            "http_requests_while_healthy": max(
                run["http_requests_while_healthy"] for run in ha
            ),
        },
        "reconnect": {
            c: {
                **_medians(runs, ("p50_ms", "p99_ms", "max_ms")),
                "rss_growth_kib": median([r["rss_growth_kib"] for r in runs]),
                "rss_growth_kib_max": max(r["rss_growth_kib"] for r in runs),
                "traced_growth_kib": median([r["traced_growth_kib"] for r in runs]),
                "traced_growth_kib_max": max(r["traced_growth_kib"] for r in runs),
                "tasks_delta_max": max(r["tasks_delta"] for r in runs),
                "sockets_delta_max": max(r["sockets_delta"] for r in runs),
                "cycles": runs[0]["cycles"],
            }
            for c, runs in rc.items()
        },
    }

    def side_by_side(
        runs: dict[str, list[dict[str, Any]]], key: str, other: str
    ) -> float:
        return ratio([r[key] for r in runs["project"]], [r[key] for r in runs[other]])

    out["ratios"] = {
        f"project/{other}": {
            "frames_per_s": side_by_side(tp, "frames_per_s", other),
            "cpu_us_per_frame": side_by_side(tp, "cpu_us_per_frame", other),
            "latency_p50": side_by_side(lat, "p50_us", other),
            "latency_p99": side_by_side(lat, "p99_us", other),
            "reconnect_p50": side_by_side(rc, "p50_ms", other),
            "reconnect_p99": side_by_side(rc, "p99_ms", other),
        }
        for other in ("gql", "floor")
    }
    project_rc = out["reconnect"]["project"]
    targets = [
        (
            "throughput ≥ 2 x gql",
            out["ratios"]["project/gql"]["frames_per_s"],
            ">=",
            2.0,
        ),
        (
            "CPU per frame ≤ 1.0 x floor",
            out["ratios"]["project/floor"]["cpu_us_per_frame"],
            "<=",
            1.0,
        ),
        (
            "latency p99 ≤ 1.1 x floor",
            out["ratios"]["project/floor"]["latency_p99"],
            "<=",
            1.1,
        ),
        (
            "HA frame → bus event p99 < 0.5 ms (µs)",
            out["home_assistant"]["event_p99_us"],
            "<",
            500.0,
        ),
        (
            "HTTP requests while healthy = 0",
            out["home_assistant"]["http_requests_while_healthy"],
            "==",
            0,
        ),
        (
            "reconnect RSS growth < 1 MiB (KiB, worst run)",
            project_rc["rss_growth_kib_max"],
            "<",
            1024.0,
        ),
        (
            "reconnect tracemalloc growth < 1 MiB (KiB, worst run)",
            project_rc["traced_growth_kib_max"],
            "<",
            1024.0,
        ),
        ("leaked tasks = 0", project_rc["tasks_delta_max"], "<=", 0),
        ("leaked sockets = 0", project_rc["sockets_delta_max"], "<=", 0),
    ]
    checks: dict[str, Callable[[float, float], bool]] = {
        ">=": lambda v, lim: v >= lim,
        "<=": lambda v, lim: v <= lim,
        "<": lambda v, lim: v < lim,
        "==": lambda v, lim: v == lim,
    }
    out["targets"] = [
        {"target": name, "value": value, "met": checks[op](value, limit)}
        for name, value, op, limit in targets
    ]
    return out


def machine() -> dict[str, Any]:
    """Describe the machine (the load average says how shared it was)."""
    model = "unknown"
    with Path("/proc/cpuinfo").open() as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with Path("/proc/meminfo").open() as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
                break
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / MIB, 1),
        "kernel": os.uname().release,
        "load_average": os.getloadavg(),
    }


def versions() -> dict[str, str]:
    """Return the versions of what is measured."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415
    import platform  # noqa: PLC0415

    found = {"python": platform.python_version()}
    for package in ("aiohttp", "orjson", "gql", "graphql-core", "homeassistant"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "absent"
    return found


async def benchmark(
    settings: Settings, workdir: Path, command: str, *, with_sink: bool = True
) -> tuple[dict[str, Any], list[str]]:
    """Run everything; return the document to write and the problems found."""
    started = time.time()
    before = machine()
    driver = Driver(settings, workdir, with_sink=with_sink)
    raw = await driver.run()
    after = machine()
    document = {
        "command": command,
        "commit": _commit(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "duration_s": round(time.time() - started, 1),
        "machine": {**before, "load_average_after": after["load_average"]},
        "versions": versions(),
        "settings": asdict(settings),
        "frame_bytes": driver.info.get("frame_bytes"),
        "agreement": {"ok": not driver.problems, "problems": driver.problems},
        **summarise(raw),
        "runs": raw,
    }
    return document, driver.problems


def _commit() -> str:
    """Name the code measured: a commit, "+dirty" when the tree has changes."""
    if env := os.environ.get("BENCH_COMMIT"):
        return env
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except OSError, subprocess.CalledProcessError:
        return "unknown"
    return head + ("+dirty" if dirty else "")


def dump(document: dict[str, Any], path: Path) -> None:
    """Write the JSON document."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, allow_nan=True) + "\n")
