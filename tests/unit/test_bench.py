"""The benchmark's pure parts: percentiles, the report (targets met or missed, said
plainly), and the load generator's bookkeeping against a tiny local HTTP server."""
from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import memory, report, stats
from bench.load import run_conversations
from bench.messages import STOCK_SCRIPTS, our_scripts
from bench.stock import create_project, shared_endpoints


def test_percentile_interpolates_linearly_like_numpy():
    values = [1, 2, 3, 4]
    assert stats.percentile(values, 0) == 1
    assert stats.percentile(values, 100) == 4
    assert stats.percentile(values, 50) == 2.5
    assert stats.percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert stats.percentile([7], 99) == 7
    assert stats.percentile([3, 1, 2], 50) == 2  # order does not matter


def test_percentile_rejects_nonsense():
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1], 101)


def test_summarize_rate_ratio():
    summary = stats.summarize([0.1, 0.2, 0.3, 0.4])
    assert summary["count"] == 4
    assert summary["mean"] == pytest.approx(0.25)
    assert summary["p50"] == pytest.approx(0.25)
    assert summary["max"] == 0.4
    assert stats.summarize([]) is None
    assert stats.rate(100, 4) == 25
    assert stats.rate(5, 0) is None
    assert stats.ratio(3, 2) == 1.5
    assert stats.ratio(None, 2) is None and stats.ratio(1, 0) is None


def _run(messages=200, p95=0.1, mps=10.0, errors=0):
    return {
        "messages": messages, "errors": errors, "error_examples": ["HTTPError: 500"] * errors,
        "empty_replies": 0, "wall_seconds": 10.0, "messages_per_second": mps, "client_cpu_seconds": 0.5,
        "latency": {"count": messages, "mean": p95 / 2, "p50": p95 / 2, "p95": p95, "p99": p95 * 1.2, "max": p95 * 2},
    }


def _results(ours_p95=0.12, stock_p95=0.1, one=10.0, two=18.0, peak=900.0, train=200.0, shared=True):
    return {
        "config": {"warmup": 10, "sequential": 200, "concurrent": 400, "concurrency": 8,
                   "throughput": 480, "throughput_concurrency": 16, "train": True},
        "machine": {"cpu_model": "Test CPU 9000", "logical_cpus": 2, "usable_cpus": 2, "ram_gb": 23.5,
                    "os": "Linux", "python": "3.11.7", "rasa": "3.6.21", "rasa_sdk": "3.6.2",
                    "tensorflow": "2.12.0", "load_average": (0.1, 0.2, 0.3), "load_average_end": (1.0, 0.5, 0.3)},
        "training": {"ours": {"seconds": train, "ok": True}, "stock": {"seconds": 60.0, "ok": True}},
        "latency": {"ours": {"sequential": _run(p95=ours_p95), "concurrent": _run(400, 0.5), "startup_seconds": 40},
                    "stock": {"sequential": _run(p95=stock_p95), "concurrent": _run(400, 0.3), "startup_seconds": 30}},
        "memory": {"ours": {"rasa": {"idle_mb": 800.0, "peak_mb": peak, "after_load_mb": 850.0, "processes": 1},
                            "actions": {"idle_mb": 60.0, "peak_mb": 61.0, "after_load_mb": 61.0}},
                   "stock": {"rasa": {"idle_mb": 700.0, "peak_mb": 750.0, "after_load_mb": 720.0}}},
        "throughput": {
            "ours": {"one": {**_run(480, mps=one), "rasa_peak_mb": [peak - 10]},
                     "two": {**_run(480, mps=two), "rasa_peak_mb": [peak - 20, peak - 5],
                             "server_cpu_seconds": 30.0, "machine_busy_cores": 1.9},
                     "shared_state": {"checked": 6, "ok": shared,
                                      "mismatches": [] if shared else ["x on instance 2: 2 of 5 messages"]}},
            "stock": {"one": _run(480, mps=30.0), "two": _run(480, mps=45.0)},
        },
        "failures": [],
        "started": 1_700_000_000.0,
        "finished": 1_700_000_600.0,
    }


def _statuses(results):
    return {row["target"].split()[0]: row["status"] for row in report.targets(results)}


def test_targets_met():
    statuses = [row["status"] for row in report.targets(_results())]
    assert statuses == ["met"] * 4


def test_targets_missed_are_said_plainly():
    rows = report.targets(_results(ours_p95=0.2, stock_p95=0.1, one=10, two=12, peak=1600, train=400))
    assert [row["status"] for row in rows] == ["**MISSED**"] * 4
    assert "2.00×" in rows[0]["measured"]
    assert "1.20×" in rows[1]["measured"]
    assert "1,600 MB" in rows[2]["measured"]
    assert "6 min 40 s" in rows[3]["measured"]


def test_target_boundaries():
    rows = report.targets(_results(ours_p95=0.15, stock_p95=0.1, one=10, two=17, peak=1499, train=299))
    assert [row["status"] for row in rows] == ["met"] * 4
    assert report.targets(_results(peak=1500))[2]["status"] == "**MISSED**"


def test_scale_out_without_shared_state_is_not_met():
    row = report.targets(_results(shared=False))[1]
    assert row["status"] == "**MISSED**"
    assert "did not share" in row["measured"]


def test_memory_target_takes_the_highest_peak_of_any_phase():
    results = _results(peak=900)
    results["throughput"]["ours"]["two"]["rasa_peak_mb"] = [1700.0, 800.0]
    assert report.memory_peak_mb(results) == 1700.0
    assert report.targets(results)[2]["status"] == "**MISSED**"


def test_missing_measurements_say_not_measured():
    results = _results()
    del results["training"]["ours"]
    results["latency"].pop("stock")
    results["throughput"] = {}
    results["memory"] = {}
    results["failures"] = ["latency and memory: stock: RuntimeError: boom"]
    assert [row["status"] for row in report.targets(results)] == [report.NA] * 4
    text = report.render(results, "make bench")
    assert "## Failures" in text and "RuntimeError: boom" in text
    assert "| Latency p95, sequential (ms) | 120 | not measured | – |" in text


def test_render_has_command_machine_tables_and_method():
    text = report.render(_results(), "make bench    # runs: .venv/bin/python -m bench")
    assert "```sh\nmake bench    # runs: .venv/bin/python -m bench\n```" in text
    assert "2023-11-14 22:13 UTC" in text and "10 min 0 s" in text
    assert "Test CPU 9000" in text and "2 logical" in text and "23.5 GiB" in text
    assert "3.11.7" in text and "3.6.21" in text
    assert "| Latency p95, sequential (ms) | 120 | 100 | 1.20× |" in text
    assert "| Throughput, 2 instances ÷ 1 instance | 1.80× | 1.50× | – |" in text
    assert "| Training time, `rasa train --force`, empty cache (s) | 200.0 | 60.0 | 3.33× |" in text
    assert "share the same 2 cores" in text.replace("**", "").replace("Everything shares", "share")
    assert "PostgreSQL and Redis" in text
    assert "Quick smoke run" not in text
    assert "| met |" in text and "MISSED" not in text
    # Every table row has as many cells as its header.
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if rows:
            assert len({row.count(" | ") for row in rows}) == 1, block


def test_render_quick_run_is_flagged():
    assert "Quick smoke run" in report.render(_results(), "python -m bench --quick", quick=True)


def test_scripts_are_five_message_conversations_in_both_languages():
    scripts = our_scripts()
    assert len(scripts) == 20 and all(len(script) == 5 for script in scripts)
    assert scripts[0][0] == "hej" and scripts[1][0] == "hello"
    assert all(len(script) == 5 for script in STOCK_SCRIPTS)


def test_stock_project_is_rasa_inits_template(tmp_path):
    project = create_project(tmp_path / "stock")
    for name in ("config.yml", "domain.yml", "credentials.yml", "endpoints.yml", "data/nlu.yml", "data/stories.yml"):
        assert (project / name).exists(), name
    assert not list(project.rglob("__pycache__"))


def test_shared_endpoints_use_rasas_builtin_stores():
    endpoints = shared_endpoints("postgresql://postgres:p%40ss@db.local:5433/scratch_1", "redis://127.0.0.1:6379/14")
    assert endpoints["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "db.local", "port": 5433,
                                          "db": "scratch_1", "username": "postgres", "password": "p@ss"}
    assert endpoints["lock_store"] == {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 14}


def test_memory_of_this_process_tree():
    pid = os.getpid()
    assert pid in memory.tree(pid)
    assert memory.rss_bytes(pid) > 1_000_000
    assert memory.peak_rss_bytes(pid) >= memory.rss_bytes(pid)
    assert memory.tree_rss_bytes(pid) >= memory.rss_bytes(pid)
    assert memory.tree_cpu_seconds(pid) > 0
    sampler = memory.MemorySampler(pid, interval=0.01).start()
    sampler.stop()
    assert sampler.peak >= sampler.last > 0 and sampler.processes >= 1
    assert memory.rss_bytes(2**22 + 12345) is None  # no such process


class _Echo:
    """A REST-channel stand-in recording which server got which sender's messages."""

    def __init__(self, fail_on: str = "") -> None:
        self.seen = []
        echo = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                echo.seen.append((body["sender"], body["message"]))
                status, reply = (500, b"[]") if body["message"] == fail_on else (200, b'[{"text": "ok"}]')
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_load_generator_counts_and_round_robin():
    first, second = _Echo(fail_on="boom"), _Echo(fail_on="boom")
    try:
        scripts = [["a", "b", "c", "d", "e"], ["f", "boom", "g", "h", "i"]]
        result = run_conversations([first.url, second.url], scripts, total_messages=23, concurrency=4)
    finally:
        first.close()
        second.close()
    assert result.messages == 23 and len(first.seen) + len(second.seen) == 23
    assert len(result.latencies) + len(result.errors) == 23
    assert result.errors and all("500" in error for error in result.errors)
    assert sum(sent for _, sent in result.conversations) == 23
    assert all(sent > 0 for _, sent in result.conversations)
    # Consecutive messages of a conversation alternate between the two servers.
    by_sender = {}
    for index, echo in enumerate((first, second)):
        for sender, message in echo.seen:
            by_sender.setdefault(sender, {})[message] = index
    for sender, where in by_sender.items():
        k = int(sender.rsplit("-", 1)[1])
        for j, text in enumerate(scripts[k % 2]):
            if text in where:
                assert where[text] == (k + j) % 2
    assert result.wall_seconds > 0 and min(result.latencies) > 0
