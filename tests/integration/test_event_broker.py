"""Events streamed to an event broker are redacted too (#12, finding 6).

Rasa publishes every new event to the configured broker from the tracker store, before
the store's own write. The assistant runs here with Rasa's RabbitMQ (pika) broker on
the local RabbitMQ service and a queue of its own; afterwards every message on the queue
is read, byte by byte.
"""
from __future__ import annotations

import asyncio
import json
import socket
import uuid
from typing import List

import pytest

from bot.servers import AssistantServers
from tests.helpers import require_service

RABBITMQ = ("127.0.0.1", 5672)
CPR = "130492-7141"
PHONE = "+45 61 72 83 91"
EMAIL = "mette.hansen@example.dk"


def rabbitmq_up() -> bool:
    try:
        with socket.create_connection(RABBITMQ, timeout=2):
            return True
    except OSError:
        return False


async def drain(queue_name: str, expect_at_least: int, timeout: float = 60) -> List[bytes]:
    import aio_pika

    connection = await aio_pika.connect_robust(f"amqp://guest:guest@{RABBITMQ[0]}:{RABBITMQ[1]}/")
    bodies: List[bytes] = []
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            if message is None:
                if len(bodies) >= expect_at_least:
                    break
                await asyncio.sleep(0.5)
                continue
            bodies.append(message.body)
        await queue.delete(if_unused=False, if_empty=False)
    finally:
        await connection.close()
    return bodies


@pytest.fixture(scope="module")
def brokered(trained_model, tmp_path_factory):
    require_service(rabbitmq_up(), "RabbitMQ on 127.0.0.1:5672")
    folder = tmp_path_factory.mktemp("broker")
    queue_name = f"assistant-test-{uuid.uuid4().hex[:10]}"
    servers = AssistantServers(
        trained_model,
        env={"TRACKER_STORE_URL": f"sqlite:///{folder}/conversations.db"},
        endpoints={"event_broker": {"type": "pika", "url": RABBITMQ[0], "port": RABBITMQ[1], "username": "guest",
                                    "password": "guest", "queues": [queue_name]}},
    )
    servers.start()
    sender = servers.new_sender()
    servers.send(sender, f"Mit CPR-nummer er {CPR}, ring på {PHONE} eller skriv til {EMAIL}. Hvad mener I om looping?")
    servers.send(sender, "Min søn har 0,8 E/t og BS 14,2 mmol/l. Skal basalen op?")
    bodies = asyncio.run(drain(queue_name, expect_at_least=8))
    servers.stop()
    return sender, bodies


def test_the_broker_received_the_conversation(brokered):
    sender, bodies = brokered
    events = [json.loads(body) for body in bodies]
    users = [e for e in events if e.get("event") == "user" and e.get("sender_id") == sender]
    assert len(users) == 2, [e.get("event") for e in events]
    assert "[cpr]" in users[0]["text"] and "[phone]" in users[0]["text"] and "[email]" in users[0]["text"]
    assert "0,8 E/t" in users[1]["text"] and "14,2 mmol/l" in users[1]["text"], "clinical values are kept"


def test_nothing_personal_reached_the_broker_raw(brokered):
    _, bodies = brokered
    raw = b"\n".join(bodies)
    for secret in (CPR, CPR.replace("-", ""), PHONE, PHONE.replace(" ", ""), "61 72 83 91", EMAIL):
        assert secret.encode() not in raw, secret
