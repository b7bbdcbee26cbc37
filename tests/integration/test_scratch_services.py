"""bot.persistence.scratch against the real PostgreSQL and Redis: what is created is
isolated and gone afterwards. Skips when a service is absent, except on CI (CI=true),
where a missing service is a broken test environment and must fail."""
from __future__ import annotations

import os

import pytest

from bot.persistence.scratch import (
    DEFAULT_POSTGRES_ADMIN_URL,
    DEFAULT_REDIS_URL,
    REDIS_CLAIM_KEY,
    postgres_available,
    redis_available,
    scratch_postgres,
    scratch_redis,
)
from tests.helpers import require_service

POSTGRES_URL = os.environ.get("SCRATCH_POSTGRES_ADMIN_URL", DEFAULT_POSTGRES_ADMIN_URL)
REDIS_URL = os.environ.get("SCRATCH_REDIS_URL", DEFAULT_REDIS_URL)


@pytest.fixture(scope="module")
def postgres():
    require_service(postgres_available(POSTGRES_URL), f"PostgreSQL at {POSTGRES_URL}")
    import psycopg2

    return psycopg2


@pytest.fixture(scope="module")
def redis_module():
    require_service(redis_available(REDIS_URL), f"Redis at {REDIS_URL}")
    import redis

    return redis


def _databases(psycopg2):
    with psycopg2.connect(POSTGRES_URL) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        names = {row[0] for row in cursor.fetchall()}
    connection.close()
    return names


def test_unavailable_services_are_reported_quickly():
    assert not postgres_available("postgresql://postgres@127.0.0.1:1/postgres")
    assert not redis_available("redis://127.0.0.1:1/0")


def test_scratch_postgres_is_new_usable_and_dropped(postgres):
    with scratch_postgres(POSTGRES_URL) as url, scratch_postgres(POSTGRES_URL) as other:
        name = url.rsplit("/", 1)[1]
        assert url != other
        assert name in _databases(postgres)
        connection = postgres.connect(url)
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE t (x int)")
            cursor.execute("INSERT INTO t VALUES (1)")
            cursor.execute("SELECT count(*) FROM t")
            assert cursor.fetchone()[0] == 1
        # Left open on purpose: the drop must terminate it.
    assert name not in _databases(postgres)
    assert other.rsplit("/", 1)[1] not in _databases(postgres)
    with pytest.raises(postgres.OperationalError):
        connection.cursor().execute("SELECT 1")


def test_scratch_postgres_url_works_with_sqlalchemy(postgres):
    sqlalchemy = pytest.importorskip("sqlalchemy")
    with scratch_postgres(POSTGRES_URL) as url:
        engine = sqlalchemy.create_engine(url)
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("SELECT current_database()")).scalar() == url.rsplit("/", 1)[1]
        # The pool keeps a connection open; the drop still succeeds.


def test_scratch_postgres_dropped_after_an_error(postgres):
    with pytest.raises(RuntimeError):
        with scratch_postgres(POSTGRES_URL) as url:
            raise RuntimeError("boom")
    assert url.rsplit("/", 1)[1] not in _databases(postgres)


def test_scratch_redis_is_isolated_and_cleaned(redis_module):
    base = redis_module.Redis.from_url(REDIS_URL)
    base.set("scratch-test:untouched", "1")
    try:
        with scratch_redis(REDIS_URL) as url, scratch_redis(REDIS_URL) as other:
            assert url != other and url != REDIS_URL
            client = redis_module.Redis.from_url(url)
            client.set("lock:conversation", "x")
            assert client.dbsize() == 2  # our key and the claim
            assert redis_module.Redis.from_url(other).get("lock:conversation") is None
        assert client.dbsize() == 0
        assert client.get(REDIS_CLAIM_KEY) is None
        assert base.get("scratch-test:untouched") == b"1"
    finally:
        base.delete("scratch-test:untouched")


def test_scratch_redis_skips_databases_holding_data(redis_module):
    with scratch_redis(REDIS_URL) as first:
        first_db = int(first.rsplit("/", 1)[1])
        client = redis_module.Redis.from_url(first)
        # Someone else's data (not a claim) in the next candidate: it must be left alone.
        busy = redis_module.Redis.from_url(REDIS_URL.rsplit("/", 1)[0] + f"/{first_db - 1}")
        # If it already holds data it is taken anyway; else this test puts some there.
        ours = not busy.dbsize()
        if ours:
            busy.set("someone-else", "1")
        before = busy.dbsize()
        try:
            with scratch_redis(REDIS_URL, databases=range(first_db, first_db - 2, -1)) as url:
                pytest.fail(f"claimed {url} although both candidates were taken")
        except RuntimeError:
            pass
        finally:
            assert busy.dbsize() == before  # left alone
            if ours:
                busy.delete("someone-else")
        assert client.get(REDIS_CLAIM_KEY) is not None  # the failed claim did not steal ours
