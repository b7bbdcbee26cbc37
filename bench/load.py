"""The load generator: conversations over Rasa's REST channel, sequential or concurrent.

Threads with one requests.Session each (keep-alive, as a chat front end would hold) are
light enough not to need asyncio, and they time each POST from send to parsed reply.
Conversations are spread over one or more instances round-robin per message, so with two
instances consecutive messages of one conversation land on different servers.
"""
from __future__ import annotations

import itertools
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import List, Sequence

import requests

REST_PATH = "/webhooks/rest/webhook"


@dataclass
class LoadResult:
    latencies: List[float] = field(default_factory=list)  # seconds, successful messages only
    errors: List[str] = field(default_factory=list)
    empty_replies: int = 0
    wall_seconds: float = 0.0
    client_cpu_seconds: float = 0.0  # the load generator's own CPU time
    conversations: List[tuple] = field(default_factory=list)  # (sender, messages sent)

    @property
    def messages(self) -> int:
        return len(self.latencies) + len(self.errors)


class _Budget:
    """Hands out message slots until the total is spent (shared by the worker threads)."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.lock = threading.Lock()
        self.conversation = itertools.count()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def run_conversations(
    urls: Sequence[str],
    scripts: Sequence[Sequence[str]],
    total_messages: int,
    concurrency: int,
    label: str = "bench",
    timeout: float = 120.0,
) -> LoadResult:
    """Sends `total_messages` messages as conversations following `scripts` (cycled),
    `concurrency` conversations at a time; message j of conversation k goes to
    urls[(k + j) % len(urls)]. Latency is the wall time of one POST until its reply."""
    if not urls or not scripts or concurrency < 1:
        raise ValueError("need urls, scripts and concurrency >= 1")
    run_id = uuid.uuid4().hex[:8]
    budget = _Budget(total_messages)
    result = LoadResult()
    lock = threading.Lock()

    def worker() -> None:
        sessions = [requests.Session() for _ in urls]
        try:
            while True:
                with budget.lock:
                    k = next(budget.conversation)
                script = scripts[k % len(scripts)]
                sender = f"{label}-{run_id}-{k}"
                sent = 0
                for j, text in enumerate(script):
                    if not budget.take():
                        break
                    target = (k + j) % len(urls)
                    started = time.perf_counter()
                    try:
                        response = sessions[target].post(
                            urls[target].rstrip("/") + REST_PATH,
                            json={"sender": sender, "message": text},
                            timeout=timeout,
                        )
                        response.raise_for_status()
                        replies = response.json()
                        elapsed = time.perf_counter() - started
                    except Exception as error:  # noqa: BLE001 - every failure is counted, not raised
                        with lock:
                            result.errors.append(f"{type(error).__name__}: {error}"[:300])
                        sent += 1
                        continue
                    sent += 1
                    with lock:
                        result.latencies.append(elapsed)
                        if not replies:
                            result.empty_replies += 1
                if sent:
                    with lock:
                        result.conversations.append((sender, sent))
                if sent < len(script):
                    return
        finally:
            for session in sessions:
                session.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    cpu_started = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    result.client_cpu_seconds = time.process_time() - cpu_started
    return result
