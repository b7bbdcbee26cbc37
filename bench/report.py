"""Renders the results (a plain dict from bench.runner) as docs/benchmarks.md.

Pure: no I/O, no clock, so it is unit-tested. Missed targets are said plainly; anything
that was not measured says so instead of showing a number.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from bench.stats import ratio

NA = "not measured"
TARGET_P95_RATIO = 1.5
TARGET_SCALE_OUT = 1.7
TARGET_MEMORY_MB = 1500.0  # 1.5 GB, decimal (1 MB = 10^6 bytes)
TARGET_TRAIN_SECONDS = 300.0


def _get(data: Any, *keys: Any) -> Any:
    for key in keys:
        if data is None:
            return None
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _ms(seconds: Optional[float]) -> str:
    return NA if seconds is None else f"{seconds * 1000:,.0f}"


def _num(value: Optional[float], digits: int = 1, unit: str = "") -> str:
    return NA if value is None else f"{value:,.{digits}f}{unit}"


def _times(value: Optional[float]) -> str:
    return "–" if value is None else f"{value:.2f}×"


def _duration(seconds: Optional[float]) -> str:
    if seconds is None:
        return NA
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)} min {rest:.0f} s" if minutes else f"{rest:.0f} s"


def memory_peak_mb(results: Dict[str, Any], name: str = "ours") -> Optional[float]:
    """The Rasa server's highest peak RSS in any phase (for ours, what the target is checked on)."""
    peaks = [_get(results, "memory", name, "rasa", "peak_mb")]
    for run in ("one", "two"):
        peaks.extend(_get(results, "throughput", name, run, "rasa_peak_mb") or [])
    peaks = [p for p in peaks if p is not None]
    return max(peaks) if peaks else None


def scale_out(results: Dict[str, Any], name: str) -> Optional[float]:
    return ratio(_get(results, "throughput", name, "two", "messages_per_second"),
                 _get(results, "throughput", name, "one", "messages_per_second"))


def targets(results: Dict[str, Any]) -> List[Dict[str, str]]:
    """Each target of the issue with what was measured and whether it is met."""
    rows = []

    def row(name: str, measured: str, met: Optional[bool]) -> None:
        status = NA if met is None else ("met" if met else "**MISSED**")
        rows.append({"target": name, "measured": measured, "status": status})

    ours_p95 = _get(results, "latency", "ours", "sequential", "latency", "p95")
    stock_p95 = _get(results, "latency", "stock", "sequential", "latency", "p95")
    p95_ratio = ratio(ours_p95, stock_p95)
    row(f"Sequential p95 latency ≤ {TARGET_P95_RATIO}× the stock assistant's",
        NA if p95_ratio is None else f"{_ms(ours_p95)} ms vs {_ms(stock_p95)} ms = {p95_ratio:.2f}×",
        None if p95_ratio is None else p95_ratio <= TARGET_P95_RATIO)

    factor = scale_out(results, "ours")
    shared = _get(results, "throughput", "ours", "shared_state", "ok")
    measured = NA if factor is None else (
        f"{_num(_get(results, 'throughput', 'ours', 'two', 'messages_per_second'))} vs "
        f"{_num(_get(results, 'throughput', 'ours', 'one', 'messages_per_second'))} msg/s = {factor:.2f}×")
    if factor is not None and shared is False:
        measured += " (but the instances did not share conversation state)"
    row(f"Throughput with two instances ≥ {TARGET_SCALE_OUT}× one instance",
        measured, None if factor is None else (factor >= TARGET_SCALE_OUT and shared is not False))

    peak = memory_peak_mb(results)
    row("Rasa server memory (peak RSS) < 1.5 GB", NA if peak is None else f"{peak:,.0f} MB",
        None if peak is None else peak < TARGET_MEMORY_MB)

    seconds = _get(results, "training", "ours", "seconds")
    trained = _get(results, "training", "ours", "ok")
    row("`rasa train` < 5 minutes", _duration(seconds) if trained else NA,
        None if not trained or seconds is None else seconds < TARGET_TRAIN_SECONDS)
    return rows


def _table(header: List[str], rows: List[List[str]]) -> List[str]:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def _comparison_rows(results: Dict[str, Any]) -> List[List[str]]:
    rows: List[List[str]] = []
    cfg = results.get("config", {})

    def add(label: str, ours: Optional[float], stock: Optional[float], fmt) -> None:
        rows.append([label, fmt(ours), fmt(stock), _times(ratio(ours, stock))])

    for mode, title in (("sequential", "sequential"), ("concurrent", f"{cfg.get('concurrency', '?')} concurrent conversations")):
        for p in ("p50", "p95", "p99"):
            add(f"Latency {p}, {title} (ms)",
                _get(results, "latency", "ours", mode, "latency", p),
                _get(results, "latency", "stock", mode, "latency", p), _ms)
    for run, title in (("one", "1 instance"), ("two", "2 instances")):
        add(f"Throughput, {title}, {cfg.get('throughput_concurrency', '?')} conversations (msg/s)",
            _get(results, "throughput", "ours", run, "messages_per_second"),
            _get(results, "throughput", "stock", run, "messages_per_second"), _num)
    ours_factor, stock_factor = scale_out(results, "ours"), scale_out(results, "stock")
    rows.append(["Throughput, 2 instances ÷ 1 instance", _times(ours_factor), _times(stock_factor), "–"])
    for key, title in (("idle_mb", "after warm-up"), ("peak_mb", "peak"), ("after_load_mb", "after the latency runs")):
        add(f"Rasa server RSS, {title} (MB)",
            _get(results, "memory", "ours", "rasa", key), _get(results, "memory", "stock", "rasa", key),
            lambda v: _num(v, 0))
    add("Rasa server RSS, peak in any phase incl. throughput (MB)",
        memory_peak_mb(results, "ours"), memory_peak_mb(results, "stock"), lambda v: _num(v, 0))
    rows.append(["Action server RSS, peak (MB)", _num(_get(results, "memory", "ours", "actions", "peak_mb"), 0),
                 "– (no custom actions)", "–"])
    add("Start-up until ready to answer, incl. loading the model (s)",
        _get(results, "latency", "ours", "startup_seconds"), _get(results, "latency", "stock", "startup_seconds"), _num)
    add("Training time, `rasa train --force`, empty cache (s)",
        _get(results, "training", "ours", "seconds"), _get(results, "training", "stock", "seconds"), _num)
    return rows


def _run_details(results: Dict[str, Any]) -> List[str]:
    lines = []
    for name in ("ours", "stock"):
        for phase, mode in (("latency", "sequential"), ("latency", "concurrent"),
                            ("throughput", "one"), ("throughput", "two")):
            run = _get(results, phase, name, mode)
            if not run:
                continue
            text = (f"- {name}, {phase} {mode}: {run['messages']} messages in {run['wall_seconds']:.1f} s, "
                    f"{run['errors']} failed, {run['empty_replies']} empty replies; load generator CPU "
                    f"{run['client_cpu_seconds']:.1f} s")
            if "server_cpu_seconds" in run:
                text += f"; assistant processes' CPU {run['server_cpu_seconds']:.1f} s"
            if run.get("machine_busy_cores") is not None:
                text += f"; whole machine on average {run['machine_busy_cores']:.2f} cores busy"
            if run["errors"]:
                text += f"; first error: `{run['error_examples'][0]}`"
            lines.append(text)
        shared = _get(results, "throughput", name, "shared_state")
        if shared:
            verdict = "yes" if shared["ok"] else ("NO: " + "; ".join(shared["mismatches"]) if shared["mismatches"] else "NO")
            lines.append(f"- {name}, two instances share conversation state (each instance's tracker holds every "
                         f"message of conversations spread over both, {shared['checked']} trackers checked): {verdict}")
    for name in ("ours", "stock"):
        processes = _get(results, "memory", name, "rasa", "processes")
        if processes:
            lines.append(f"- {name}, Rasa server: {processes} process(es) in its tree at most")
    return lines


def render(results: Dict[str, Any], command: str, quick: bool = False) -> str:
    machine = results.get("machine", {})
    cfg = results.get("config", {})
    started = results.get("started")
    date = datetime.fromtimestamp(started, timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if started else NA
    took = (results["finished"] - started) if started and results.get("finished") else None
    out: List[str] = ["# Benchmarks: our assistant next to a stock `rasa init` assistant", ""]
    if quick:
        out += ["> **Quick smoke run (`--quick`)**: the counts are far too small for the numbers to mean",
                "> anything. Run `make bench` on a quiet machine for real results.", ""]
    out += ["Produced by:", "", "```sh", command, "```", "",
            f"on {date}, taking {_duration(took)} in all.", "", "## Targets", ""]
    out += _table(["Target", "Measured", "Status"],
                  [[t["target"], t["measured"], t["status"]] for t in targets(results)])
    out += ["", "## Ours vs stock, same run, same machine", ""]
    out += _table(["Metric", "Ours", "Stock", "Ours ÷ stock"], _comparison_rows(results))
    details = _run_details(results)
    if details:
        out += ["", "Runs:", ""] + details
    failures = results.get("failures") or []
    if failures:
        out += ["", "## Failures", "", "These parts did not run to the end, so their numbers are missing above:", ""]
        out += [f"- {failure}" for failure in failures]
    load = machine.get("load_average")
    load_end = machine.get("load_average_end")
    out += ["", "## Machine", ""]
    out += _table(["", ""], [
        ["CPU", str(machine.get("cpu_model", NA))],
        ["Cores", f"{machine.get('logical_cpus', NA)} logical, {machine.get('usable_cpus', NA)} usable by the run"],
        ["RAM", f"{machine.get('ram_gb', NA)} GiB"],
        ["OS", str(machine.get("os", NA))],
        ["Python", str(machine.get("python", NA))],
        ["Rasa / rasa-sdk / TensorFlow",
         f"{machine.get('rasa', NA)} / {machine.get('rasa_sdk', NA)} / {machine.get('tensorflow', NA)}"],
        ["Load average (1, 5, 15 min) at start",
         ", ".join(f"{x:.2f}" for x in load) if load else NA],
        ["Load average at end", ", ".join(f"{x:.2f}" for x in load_end) if load_end else NA],
    ])
    out += ["", "## How it was measured", ""]
    out += [
        f"- **Everything shares the same {machine.get('usable_cpus', '?')} cores**: the load generator, the Rasa "
        "servers, our action servers, PostgreSQL and Redis. With two instances there is no extra hardware, "
        "only a second process competing for the same cores, so the scale-out factor shows the software's "
        "overhead and contention, not what two machines would give.",
        "- **Stock assistant**: the project `rasa init` creates (copied from Rasa's own template "
        "`rasa/cli/initial_project`, no custom actions), trained with `rasa train` and served with "
        "`rasa run --enable-api`.",
        "- **Ours**: `models/assistant.tar.gz`, served as `make run` serves it (`python -m bot serve` plus the "
        "action server, through `bot.servers.AssistantServers`).",
        "- **Messages**: ours, five-message conversations in Danish or English (greeting, three questions "
        "about the association's stance on looping from `tests/data/topic_questions.yml`, thanks); stock, "
        "five-message conversations over its own intents (greeting, mood, affirm/deny, bot challenge, goodbye).",
        f"- **Warm-up**: {cfg.get('warmup', '?')} messages per server instance before anything is measured.",
        "- **Latency**: wall time of one POST to `/webhooks/rest/webhook` until the reply is read, measured by "
        "the client; failed requests are counted separately, not in the percentiles. Percentiles interpolate "
        f"linearly. Sequential: {cfg.get('sequential', '?')} messages, one at a time. Concurrent: "
        f"{cfg.get('concurrent', '?')} messages as {cfg.get('concurrency', '?')} conversations at a time. One "
        "instance each, with each assistant's default stores: ours its SQLite tracker store (a file in a "
        "temporary directory) and in-memory lock store; stock the in-memory tracker and lock stores.",
        f"- **Throughput**: {cfg.get('throughput', '?')} messages as {cfg.get('throughput_concurrency', '?')} "
        "conversations at a time, divided by the wall time of the run; first against one instance, then "
        "against two, with the messages of each conversation sent round-robin to the two instances. Both runs "
        "use a fresh PostgreSQL database as tracker store and a fresh Redis database as lock store (ours "
        "through `TRACKER_STORE_URL`/`LOCK_STORE_URL`, stock through Rasa's built-in `SQL` and `redis` "
        "stores), created for the run and removed after it.",
        "- **Memory**: resident set size (RSS, 1 MB = 10^6 bytes) of the Rasa server process and its "
        "children (if any) from `/proc`, sampled every 0.25 s during the latency runs; the peak is the larger of the "
        "samples and the kernel's high-water mark (VmHWM), so it includes loading the model. Our action "
        "server is reported separately.",
        "- **Training**: wall time of `rasa train --force` into a temporary directory with an empty training "
        "cache of its own, so every component really trains; ours with the Makefile's inputs. "
        "`models/assistant.tar.gz` is not touched.",
    ]
    return "\n".join(out) + "\n"
