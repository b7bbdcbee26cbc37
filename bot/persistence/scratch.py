"""Throwaway PostgreSQL databases and Redis databases for tests and the benchmark.

Scale-out tests and `make bench` need real shared stores (two Rasa instances behind one
tracker store and one lock store) without touching anybody's data: each context manager
creates something uniquely its own and removes it again on exit, even after an error.
"""
from __future__ import annotations

import os
import time
import uuid
from contextlib import contextmanager
from typing import Iterator, Optional
from urllib.parse import urlsplit, urlunsplit

DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Marks a Redis database as taken by one scratch_redis() block; a database counts as free
# only when it is empty, so a claim never lands on data somebody else put there.
REDIS_CLAIM_KEY = "scratch:claimed-by"


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _connect_postgres(url: str, timeout: int = 3):
    import psycopg2

    # libpq does not know SQLAlchemy's "postgresql+psycopg2" scheme.
    scheme, rest = url.split("://", 1)
    connection = psycopg2.connect(f"postgresql://{rest}" if scheme.startswith("postgres") else url,
                                  connect_timeout=timeout)
    connection.autocommit = True
    return connection


def postgres_available(url: str = DEFAULT_POSTGRES_ADMIN_URL) -> bool:
    """True when a connection to `url` can be opened within a couple of seconds."""
    try:
        _connect_postgres(url, timeout=2).close()
    except Exception:
        return False
    return True


def redis_available(url: str = DEFAULT_REDIS_URL) -> bool:
    """True when the Redis server at `url` answers PING within a second."""
    try:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _drop_database(admin_url: str, name: str, attempts: int = 5) -> None:
    from psycopg2 import sql

    connection = _connect_postgres(admin_url)
    try:
        with connection.cursor() as cursor:
            force = sql.SQL(" WITH (FORCE)") if connection.server_version >= 130000 else sql.SQL("")
            for attempt in range(attempts):
                # Connection pools (SQLAlchemy in Rasa) may still hold or reopen connections.
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    (name,),
                )
                try:
                    cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)) + force)
                    return
                except Exception:
                    if attempt == attempts - 1:
                        raise
                    time.sleep(0.5)
    finally:
        connection.close()


@contextmanager
def scratch_postgres(admin_url: str = DEFAULT_POSTGRES_ADMIN_URL, prefix: str = "scratch") -> Iterator[str]:
    """Yields the URL of a new, uniquely named, empty database; drops it on exit.

    `admin_url` must be allowed to CREATE and DROP databases. The yielded URL is `admin_url`
    with its database replaced, so it works for SQLAlchemy and for libpq alike.
    """
    from psycopg2 import sql

    name = f"{prefix}_{uuid.uuid4().hex[:16]}".lower()
    connection = _connect_postgres(admin_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    try:
        yield _with_path(admin_url, f"/{name}")
    finally:
        _drop_database(admin_url, name)


def _database_count(client) -> int:
    try:
        return int(client.config_get("databases").get("databases", 16))
    except Exception:  # CONFIG can be disabled (managed Redis): assume the default.
        return 16


@contextmanager
def scratch_redis(url: str = DEFAULT_REDIS_URL, databases: Optional[range] = None) -> Iterator[str]:
    """Yields a Redis URL on the same server as `url` but with an empty database of its own.

    The database is claimed with a marker key (SET NX on an empty database), searched from
    the highest number down and never the database in `url` itself, so shared data in the
    low-numbered databases is never touched. On exit every key in it is deleted (FLUSHDB),
    but only while the claim is still ours. Raises RuntimeError when no database is free.
    """
    import redis

    parts = urlsplit(url)
    base_db = int(parts.path.strip("/") or 0)
    admin = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
    try:
        candidates = databases if databases is not None else range(_database_count(admin) - 1, -1, -1)
    finally:
        admin.close()
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    claimed: Optional[int] = None
    client = None
    for db in candidates:
        if db == base_db:
            continue
        client = redis.Redis.from_url(_with_path(url, f"/{db}"), socket_connect_timeout=2, socket_timeout=5)
        if client.set(REDIS_CLAIM_KEY, token, nx=True):
            if client.dbsize() == 1:
                claimed = db
                break
            _release(client, token)  # somebody else's keys live here
        client.close()
        client = None
    if claimed is None or client is None:
        raise RuntimeError(f"no free Redis database on {parts.hostname}:{parts.port or 6379}")
    try:
        yield _with_path(url, f"/{claimed}")
    finally:
        try:
            if client.get(REDIS_CLAIM_KEY) == token.encode():
                client.flushdb()
        finally:
            client.close()


def _release(client, token: str) -> None:
    """Deletes the claim only if it is still ours (compare-and-delete in one script)."""
    client.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        1, REDIS_CLAIM_KEY, token,
    )
