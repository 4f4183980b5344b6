"""The figures as Markdown, written between two markers of docs/benchmarks.md.

Only the block between `<!-- bench:begin -->` and `<!-- bench:end -->` is
generated; the prose around it (method, profiling) is written by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

BEGIN: Final = "<!-- bench:begin -->"
END: Final = "<!-- bench:end -->"
CLIENT_NAMES: Final = {
    "floor": "floor (aiohttp + orjson)",
    "gql": "gql 4 (aiohttp transport)",
    "project": "this project (`BlinkWebSocket` → `MyUpdate`)",
    "sink": "sink (aiohttp reader only; server check)",
}


def _n(value: float, digits: int = 0) -> str:
    if value != value:  # NaN  # noqa: PLR0124
        return "n/a"
    return f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |"]
    lines.append(
        "|"
        + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header)))
        + "|"
    )
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def render(doc: dict[str, Any]) -> str:
    """Return the generated block (without the markers)."""
    s = doc["settings"]
    m = doc["machine"]
    v = doc["versions"]
    load0 = ", ".join(f"{x:.2f}" for x in m["load_average"])
    load1 = ", ".join(f"{x:.2f}" for x in m["load_average_after"])
    out: list[str] = [
        (
            f"Run `{doc['command']}` on {doc['started']} ({doc['duration_s']:.0f} s),"
            f" code at {doc.get('commit', 'unknown')}."
        ),
        (
            f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Linux"
            f" {m['kernel']}; load average {load0} at the start and {load1} at the end"
            " (a shared machine: other jobs ran meanwhile)."
        ),
        (
            f"Python {v['python']}, aiohttp {v['aiohttp']}, orjson {v['orjson']}, gql"
            f" {v['gql']} (graphql-core {v['graphql-core']}), Home Assistant"
            f" {v['homeassistant']}."
        ),
        (
            f"Each frame is {doc['frame_bytes']} bytes: a Lightning payment with the"
            " account and both balances, as the simulator (Blink's schema) pushes it."
        ),
        (
            f"Every figure is the median of {s['reps']} repetitions (throughput:"
            f" {s['reps'] * s['throughput_rounds']} runs); a ratio is the median of the"
            " ratios of runs made side by side."
        ),
        "Clients agreed on every frame received: "
        + (
            "yes."
            if doc["agreement"]["ok"]
            else "**no**: " + "; ".join(doc["agreement"]["problems"])
        ),
        "",
        (
            f"### 1. Throughput: {s['throughput_frames']:,} frames, server sending"
            " flat out, one client at a time"
        ),
        "",
    ]
    tp = doc["throughput"]
    out += _table(
        ["client", "frames/s", "CPU µs per frame"],
        [
            [CLIENT_NAMES[c], _n(r["frames_per_s"]), _n(r["cpu_us_per_frame"], 2)]
            for c, r in tp.items()
        ],
    )
    build = max(r["server_cpu_us_per_frame"] for r in tp.values())
    write = max(r["server_write_cpu_us_per_frame"] for r in tp.values())
    out += [
        "",
        (
            f"The server formats every frame before the first is written ({_n(build, 2)}"
            f" µs of CPU per frame at most, before any client clock starts) and spends"
            f" {_n(write, 2)} µs per frame writing while the client reads; the sink"
            " shows what the server and the kernel deliver."
        ),
        "",
        (
            f"### 2. Latency: {s['latency_frames']:,} frames at least"
            f" {s['interval_us'] / 1000:g} ms apart, server timestamp → callback"
            " (the three clients at once, frames taking turns)"
        ),
        "",
    ]
    out += _table(
        ["client", "p50 µs", "p99 µs", "max µs"],
        [
            [CLIENT_NAMES[c], _n(r["p50_us"]), _n(r["p99_us"]), _n(r["max_us"])]
            for c, r in doc["latency"].items()
        ],
    )
    ha = doc["home_assistant"]
    out += [
        "",
        (
            f"### 3. Inside Home Assistant: {s['ha_frames']:,} frames at least"
            f" {s['interval_us'] / 1000:g} ms apart"
        ),
        "",
    ]
    out += _table(
        ["from the server's timestamp to", "p50 µs", "p99 µs", "max µs"],
        [
            [
                "the BTC balance sensor's state written",
                _n(ha["state_p50_us"]),
                _n(ha["state_p99_us"]),
                _n(ha["state_max_us"]),
            ],
            [
                "`blink_wallet_payment_received` fired on the bus",
                _n(ha["event_p50_us"]),
                _n(ha["event_p99_us"]),
                _n(ha["event_max_us"]),
            ],
        ],
    )
    out += [
        "",
        (
            "HTTP requests to the simulator while the socket was healthy (worst"
            f" repetition): {ha['http_requests_while_healthy']}."
        ),
        "",
        (
            f"### 4. Reconnect: {s['reconnect_cycles']:,} cycles (server away"
            f" {s['down_ms']:g} ms; every client retries after a random wait below"
            f" {s['backoff'] * 1000:g} ms)"
        ),
        "",
    ]
    out += _table(
        [
            "client",
            "back → first frame p50 ms",
            "p99 ms",
            "RSS growth KiB",
            "tracemalloc growth KiB",
            "tasks Δ",
            "sockets Δ",
        ],
        [
            [
                CLIENT_NAMES[c],
                _n(r["p50_ms"], 2),
                _n(r["p99_ms"], 2),
                _n(r["rss_growth_kib_max"]),
                _n(r["traced_growth_kib_max"]),
                str(r["tasks_delta_max"]),
                str(r["sockets_delta_max"]),
            ]
            for c, r in doc["reconnect"].items()
        ],
    )
    out += [
        "",
        (
            "Growth and deltas are the worst repetition: RSS over the first"
            f" {s['reconnect_cycles']:,} cycles, tracemalloc over as many more with"
            " tracing on, each after a full garbage collection."
        ),
        "",
        "### Ratios",
        "",
    ]
    r_gql = doc["ratios"]["project/gql"]
    r_floor = doc["ratios"]["project/floor"]
    out += _table(
        ["", "project ÷ gql", "project ÷ floor"],
        [
            [label, _n(r_gql[key], 2), _n(r_floor[key], 2)]
            for label, key in (
                ("frames per second", "frames_per_s"),
                ("CPU per frame", "cpu_us_per_frame"),
                ("latency p50", "latency_p50"),
                ("latency p99", "latency_p99"),
                ("reconnect p50", "reconnect_p50"),
                ("reconnect p99", "reconnect_p99"),
            )
        ],
    )
    out += ["", "### Targets", ""]
    out += _table(
        ["target", "measured", "met"],
        [
            [t["target"], _n(t["value"], 2), "yes" if t["met"] else "**no**"]
            for t in doc["targets"]
        ],
    )
    return "\n".join(out) + "\n"


def write(doc: dict[str, Any], path: Path) -> None:
    """Replace the generated block of `path` (create the file if needed)."""
    block = f"{BEGIN}\n{render(doc)}{END}"
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
        text = head + block + tail
    else:
        text = (text or "# Benchmarks\n\n") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
