"""The benchmark's phases, each measuring ours and stock the same way in the same run:
training, latency (one instance, sequential then concurrent, with memory sampled
throughout) and throughput (one instance, then two sharing PostgreSQL and Redis).

A phase that fails is recorded with its error and the run goes on: the report then says
"not measured" instead of the run dying with nothing written.
"""
from __future__ import annotations

import logging
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence

from bench import memory, messages, stats, stock, training
from bench.load import LoadResult, run_conversations
from bench.machine import busy_cores, cpu_times, machine_info

log = logging.getLogger("bench")


@dataclass
class Config:
    warmup: int = 10  # messages per instance before anything is measured
    sequential: int = 200
    concurrent: int = 400
    concurrency: int = 8
    throughput: int = 480
    throughput_concurrency: int = 16
    train: bool = True


QUICK = Config(warmup=3, sequential=10, concurrent=16, concurrency=8, throughput=32, throughput_concurrency=16)


def load_summary(result: LoadResult) -> Dict[str, Any]:
    return {
        "messages": result.messages,
        "errors": len(result.errors),
        "error_examples": result.errors[:3],
        "empty_replies": result.empty_replies,
        "wall_seconds": result.wall_seconds,
        "messages_per_second": stats.rate(len(result.latencies), result.wall_seconds),
        "latency": stats.summarize(result.latencies),
        "client_cpu_seconds": result.client_cpu_seconds,
    }


def _mb(value: Optional[int]) -> Optional[float]:
    return None if value is None else value / 1e6


class Bench:
    def __init__(self, config: Config, work: Path, model: Path, reuse_stock: bool = False) -> None:
        self.config = config
        self.work = work
        self.logs = work / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.model = model
        self.reuse_stock = reuse_stock
        self.stock_project = work / "stock"
        self.stock_model: Optional[Path] = None
        self.results: Dict[str, Any] = {
            "config": asdict(config),
            "machine": machine_info(),
            "training": {},
            "latency": {},
            "memory": {},
            "throughput": {},
            "failures": [],
            "started": time.time(),
        }

    # -- helpers ---------------------------------------------------------------------

    def _guard(self, what: str, function: Callable[[], Any]) -> Any:
        log.info("==> %s", what)
        started = time.perf_counter()
        try:
            return function()
        except Exception as error:  # noqa: BLE001 - recorded in the report, the run goes on
            log.error("%s failed: %s", what, error)
            log.debug("%s", traceback.format_exc())
            self.results["failures"].append(f"{what}: {type(error).__name__}: {error}")
            return None
        finally:
            log.info("    %s took %.0f s", what, time.perf_counter() - started)

    def _our_env(self, extra: Dict[str, str]) -> Dict[str, str]:
        """Our servers as `make run` runs them, but writing only into the work directory."""
        return {
            "HELPLINE_DATABASE_URL": f"sqlite:///{self.work}/helpline.db",
            "HELPLINE_WEBHOOK_URL": "",
            "WIDGET_ALLOWED_ORIGINS": "",
            "LOCK_STORE_URL": "",
            **extra,
        }

    def our_server(self, extra_env: Dict[str, str]):
        from bot.servers import AssistantServers

        return AssistantServers(self.model, env=self._our_env(extra_env))

    def stock_server(self, endpoints: Optional[Dict[str, Any]] = None) -> stock.StockServer:
        from bot.servers import free_port

        assert self.stock_model is not None, "the stock assistant has no model"
        return stock.StockServer(self.stock_project, self.stock_model, free_port(), self.logs, endpoints)

    def _warm_up(self, urls: Sequence[str], scripts) -> None:
        for url in urls:
            result = run_conversations([url], scripts, self.config.warmup, 1, label="warmup")
            if result.errors:
                raise RuntimeError(f"warm-up failed on {url}: {result.errors[0]}")

    # -- phases ----------------------------------------------------------------------

    def prepare_stock(self) -> None:
        existing = self.stock_project / "models" / "stock.tar.gz"
        if self.reuse_stock and existing.exists():
            self.stock_model = existing
            self.results["training"]["stock"] = {"seconds": None, "ok": True, "note": "model reused, not timed"}
            return
        stock.create_project(self.stock_project)
        result = training.train_stock(self.stock_project, self.stock_project / "models", self.logs)
        self.results["training"]["stock"] = {"seconds": result.seconds, "ok": result.ok, "log": str(result.log)}
        if not result.ok:
            raise RuntimeError(f"stock training failed; see {result.log}")
        self.stock_model = result.model

    def train_ours(self) -> None:
        result = training.train_ours(self.work / "ours-models", self.logs)
        self.results["training"]["ours"] = {"seconds": result.seconds, "ok": result.ok, "log": str(result.log)}
        if not result.ok:
            raise RuntimeError(f"training ours failed; see {result.log}")

    def latency(self, name: str, server, scripts) -> None:
        """One instance with its default stores: warm-up, sequential, then concurrent."""
        started = time.perf_counter()
        server.start()
        startup = time.perf_counter() - started
        samplers: Dict[str, memory.MemorySampler] = {}
        try:
            samplers["rasa"] = memory.MemorySampler(server.rasa_pid).start()
            if getattr(server, "action_pid", None):
                samplers["actions"] = memory.MemorySampler(server.action_pid).start()
            self._warm_up([server.url], scripts)
            idle = {role: sampler.sample() for role, sampler in samplers.items()}
            cfg = self.config
            sequential = run_conversations([server.url], scripts, cfg.sequential, 1, label=f"{name}-seq")
            concurrent = run_conversations([server.url], scripts, cfg.concurrent, cfg.concurrency,
                                           label=f"{name}-conc")
            for sampler in samplers.values():
                sampler.stop()
            self.results["latency"][name] = {
                "sequential": load_summary(sequential),
                "concurrent": load_summary(concurrent),
                "startup_seconds": startup,
            }
            self.results["memory"][name] = {
                role: {"idle_mb": _mb(idle[role]), "peak_mb": _mb(sampler.peak), "after_load_mb": _mb(sampler.last),
                       "processes": sampler.processes}
                for role, sampler in samplers.items()
            }
        finally:
            for sampler in samplers.values():
                sampler.stop()
            server.stop()

    def throughput(self, name: str, make_server: Callable[[str, str], Any], scripts) -> None:
        """The same load on one instance, then on two sharing a scratch PostgreSQL tracker
        store and a scratch Redis lock store (the single instance uses them too, so the
        stores are not what differs)."""
        from bot.persistence.scratch import scratch_postgres, scratch_redis

        cfg = self.config
        cpus = self.results["machine"]["usable_cpus"] or 1
        record: Dict[str, Any] = {}
        self.results["throughput"][name] = record
        with scratch_postgres() as tracker_url, scratch_redis() as lock_url:
            servers: List[Any] = []
            try:
                for count in (1, 2):
                    while len(servers) < count:
                        server = make_server(tracker_url, lock_url)
                        servers.append(server)
                        server.start()
                        self._warm_up([server.url], scripts)
                    samplers = [memory.MemorySampler(s.rasa_pid).start() for s in servers]
                    pids = [p for s in servers for p in (s.rasa_pid, getattr(s, "action_pid", None)) if p]
                    server_cpu = sum(memory.tree_cpu_seconds(p) for p in pids)
                    machine_before = cpu_times()
                    result = run_conversations([s.url for s in servers], scripts, cfg.throughput,
                                               cfg.throughput_concurrency, label=f"{name}-tp{count}")
                    machine_busy = busy_cores(machine_before, cpu_times(), cpus)
                    server_cpu = sum(memory.tree_cpu_seconds(p) for p in pids) - server_cpu
                    for sampler in samplers:
                        sampler.stop()
                    summary = load_summary(result)
                    summary["server_cpu_seconds"] = server_cpu
                    summary["machine_busy_cores"] = machine_busy
                    summary["rasa_peak_mb"] = [_mb(s.peak) for s in samplers]
                    record["one" if count == 1 else "two"] = summary
                    if count == 2:
                        record["shared_state"] = self._shared_state(servers, result)
            finally:
                for server in servers:
                    server.stop()

    @staticmethod
    def _shared_state(servers: Sequence[Any], result: LoadResult, sample: int = 3) -> Dict[str, Any]:
        """Both instances must see every message of a conversation they shared (the user
        events in each instance's tracker equal the messages sent), or the scale-out is
        not real."""
        checked, mismatches = 0, []
        for sender, sent in [c for c in result.conversations if c[1] >= 2][:sample]:
            for index, server in enumerate(servers):
                seen = sum(1 for event in server.tracker(sender)["events"] if event.get("event") == "user")
                checked += 1
                if seen != sent:
                    mismatches.append(f"{sender} on instance {index + 1}: {seen} of {sent} messages")
        return {"checked": checked, "ok": checked > 0 and not mismatches, "mismatches": mismatches}

    # -- the whole run ---------------------------------------------------------------

    def run(self) -> Dict[str, Any]:
        ours_scripts, stock_scripts = messages.our_scripts(), messages.STOCK_SCRIPTS
        self._guard("training the stock assistant", self.prepare_stock)
        if self.config.train:
            self._guard("training ours", self.train_ours)
        self._guard("latency and memory: ours", lambda: self.latency(
            "ours", self.our_server({"TRACKER_STORE_URL": f"sqlite:///{self.work}/conversations.db"}),
            ours_scripts))
        if self.stock_model:
            self._guard("latency and memory: stock",
                        lambda: self.latency("stock", self.stock_server(), stock_scripts))
        self._guard("throughput: ours", lambda: self.throughput(
            "ours", lambda t, lk: self.our_server({"TRACKER_STORE_URL": t, "LOCK_STORE_URL": lk}), ours_scripts))
        if self.stock_model:
            self._guard("throughput: stock", lambda: self.throughput(
                "stock", lambda t, lk: self.stock_server(stock.shared_endpoints(t, lk)), stock_scripts))
        self.results["finished"] = time.time()
        self.results["machine"]["load_average_end"] = machine_info()["load_average"]
        return self.results
