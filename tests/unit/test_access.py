"""The access rules: no unprotected HTTP API off loopback, action server on loopback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bot import access, launch
from tests.helpers import ROOT

TOKEN = "t" * 32


@pytest.mark.parametrize("host", ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_addresses(host):
    assert access.is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "example.org", "", "127.0.0.1.example"])
def test_other_addresses_are_not_loopback(host):
    assert not access.is_loopback(host)


def test_loopback_without_token_is_allowed():
    access.check_rasa_api("127.0.0.1", {})


@pytest.mark.parametrize("interface", ["0.0.0.0", "192.168.1.10", "::"])
def test_public_interface_without_token_refuses(interface):
    with pytest.raises(access.AccessError) as error:
        access.check_rasa_api(interface, {})
    assert error.value.code == 2
    assert interface in str(error.value) and "RASA_TOKEN" in str(error.value)


def test_public_interface_with_token_or_jwt_is_allowed():
    access.check_rasa_api("0.0.0.0", {"RASA_TOKEN": TOKEN, "REST_TOKEN": TOKEN})
    access.check_rasa_api("0.0.0.0", {"RASA_JWT_SECRET": TOKEN, "REST_TOKEN": TOKEN})


@pytest.mark.parametrize("interface", ["0.0.0.0", "192.168.1.10"])
def test_the_rest_channel_needs_its_token_off_loopback(interface):
    """REST is an integration channel: without REST_TOKEN anyone on the network could chat as any sender."""
    with pytest.raises(access.AccessError, match="REST_TOKEN") as error:
        access.check_rasa_api(interface, {"RASA_TOKEN": TOKEN})
    assert error.value.code == 2
    with pytest.raises(access.AccessError, match="shorter than 16"):
        access.check_rasa_api("127.0.0.1", {"REST_TOKEN": "short"})


@pytest.mark.parametrize("interface", ["127.0.0.1", "0.0.0.0"])
def test_short_secrets_are_refused_everywhere(interface):
    with pytest.raises(access.AccessError, match="shorter than 16"):
        access.check_rasa_api(interface, {"RASA_TOKEN": "short"})


def test_rasa_arguments_carry_the_secrets_from_the_environment():
    arguments = launch.rasa_arguments(
        "m.tar.gz", 5005, "0.0.0.0", "c.yml", "e.yml",
        {"RASA_TOKEN": TOKEN, "RASA_JWT_SECRET": TOKEN + "j", "REST_TOKEN": TOKEN + "r"},
    )
    assert arguments[:2] == ["run", "--enable-api"]
    assert arguments[arguments.index("--auth-token") + 1] == TOKEN
    assert arguments[arguments.index("--jwt-secret") + 1] == TOKEN + "j"
    assert arguments[arguments.index("--jwt-method") + 1] == "HS256"
    assert arguments[arguments.index("--interface") + 1] == "0.0.0.0"


def test_rasa_arguments_without_a_secret_have_no_auth_options():
    arguments = launch.rasa_arguments("m.tar.gz", 5005, "127.0.0.1", "c.yml", "e.yml", {})
    assert "--auth-token" not in arguments and "--jwt-secret" not in arguments


def test_action_server_defaults_to_loopback():
    assert launch.action_host({}) == "127.0.0.1"
    assert launch.action_host({"ACTION_HOST": " "}) == "127.0.0.1"
    assert launch.action_host({"ACTION_HOST": "10.0.0.5"}) == "10.0.0.5"


def _serve(*arguments, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("RASA_TOKEN", "RASA_JWT_SECRET", "RASA_INTERFACE")}
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", *arguments],
        cwd=ROOT, env={**clean, "PYTHONPATH": str(ROOT), **env}, capture_output=True, text=True, timeout=120,
    )


def test_the_server_refuses_to_start_on_all_interfaces_without_a_token():
    result = _serve("--interface", "0.0.0.0", "--model", "does-not-matter.tar.gz")
    assert result.returncode == 2
    assert "Refusing to start" in result.stderr and "RASA_TOKEN" in result.stderr


def test_the_server_reads_its_interface_from_the_environment():
    result = _serve("--model", "does-not-matter.tar.gz", RASA_INTERFACE="192.168.1.10")
    assert result.returncode == 2
    assert "192.168.1.10" in result.stderr
