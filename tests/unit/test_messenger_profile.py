"""The Page's Messenger welcome screen (bot/channels/messenger_profile.py, #11): the greeting
with the privacy essentials, shown before a person writes, and the Get Started button.

The greeting texts are data/content/messenger.yml; the profile is posted through the
channel's GraphAPI to a local stand-in for the Graph API (the `graph` fixture).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json

import pytest

from bot import __main__ as cli
from bot.channels import messenger, messenger_profile
from bot.channels.messenger_profile import GREETING_LIMIT, ProfileError, greetings, profile_body
from tests.unit.test_messenger_channel import SECRET, TOKEN

ESSENTIALS = {
    "da": ["navn", "CPR-nummer", "telefon", "e-mail", "adresse", "slettes", "112"],
    "en": ["name", "CPR number", "phone", "e-mail", "address", "deleted", "112"],
}


@pytest.fixture(autouse=True)
def retention_30(monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "30")


def write_profile(tmp_path, da: str, en: str, locales: str = "default: da\n  en_US: en") -> str:
    path = tmp_path / "messenger.yml"
    path.write_text(f"greeting:\n  da: {json.dumps(da)}\n  en: {json.dumps(en)}\nlocales:\n  {locales}\n", encoding="utf-8")
    return path


def test_the_body_has_the_greetings_per_locale_and_get_started():
    body = profile_body()
    assert list(body) == ["greeting", "get_started"]
    assert body["get_started"] == {"payload": "/get_started"}
    locales = {g["locale"]: g["text"] for g in body["greeting"]}
    assert body["greeting"][0]["locale"] == "default"  # Meta requires it; Danish is the default
    texts = greetings()
    assert locales["default"] == texts["da"] and locales["en_US"] == texts["en"]
    assert set(locales.values()) == {texts["da"], texts["en"]}


@pytest.mark.parametrize("days", [1, 30, 99, 999])
def test_the_greetings_name_the_privacy_essentials_and_fit_160_characters(days):
    texts = greetings(days)
    assert set(texts) == {"da", "en"}
    for language, text in texts.items():
        assert len(text) <= GREETING_LIMIT and len(text.encode("utf-16-le")) // 2 <= GREETING_LIMIT, (language, len(text))
        for essential in ESSENTIALS[language]:
            assert essential in text, (language, essential)
        assert f" {days} " in text  # the retention period, filled in
        assert "{" not in text and "}" not in text


def test_the_retention_period_comes_from_the_configuration(monkeypatch):
    monkeypatch.setenv("RETENTION_DAYS", "45")
    assert "45 dage" in greetings()["da"] and "45 days" in greetings()["en"]
    assert all("45" in g["text"] for g in profile_body()["greeting"])


def test_no_name_placeholder_is_used_or_accepted(tmp_path):
    from bot import paths

    raw = (paths.CONTENT / "messenger.yml").read_text(encoding="utf-8")
    data = messenger_profile.load_mapping(paths.CONTENT / "messenger.yml")
    assert "{{" not in json.dumps(data) and "user_first_name" not in json.dumps(data)
    assert "{retention_days}" in raw
    assert "user_" not in json.dumps(profile_body())
    path = write_profile(tmp_path, "Hej {{user_first_name}}! Ring 112.", "Hi! Call 112.")
    with pytest.raises(ProfileError, match="keeps no names"):
        greetings(30, path)


def test_a_greeting_over_160_characters_is_refused(tmp_path):
    path = write_profile(tmp_path, "Samtaler slettes efter {retention_days} dage. " + "x" * 127, "Chats are deleted. Call 112.")
    assert len(greetings(999, path)["da"]) == 160  # exactly at the limit
    with pytest.raises(ProfileError, match="Messenger allows 160"):
        greetings(9_999, path)
    with pytest.raises(ProfileError, match="unknown placeholder"):
        greetings(30, write_profile(tmp_path, "Hej {name}", "Hi"))
    with pytest.raises(ProfileError, match="default"):
        profile_body(30, write_profile(tmp_path, "Hej", "Hi", locales="en_US: en"))
    with pytest.raises(ProfileError, match="locale"):
        profile_body(30, write_profile(tmp_path, "Hej", "Hi", locales="default: da\n  english: en"))


async def test_publish_posts_the_profile_with_the_page_token_and_proof(graph):
    api = messenger.GraphAPI(TOKEN, SECRET, graph.url)
    body = profile_body()
    assert await messenger_profile.publish(api, body)
    (call,) = graph.calls
    assert call["path"] == "/v21.0/me/messenger_profile" and call["json"] == body
    assert call["query"]["access_token"] == TOKEN
    assert call["query"]["appsecret_proof"] == hmac.new(SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()


def test_the_subcommand_prints_the_body_with_dry_run(capsys, monkeypatch):
    monkeypatch.delenv("FACEBOOK_PAGE_ACCESS_TOKEN", raising=False)
    assert cli.main(["messenger-profile", "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out) == profile_body()


async def test_the_subcommand_posts_with_the_channels_credentials(graph, monkeypatch, capsys):
    monkeypatch.setenv("FACEBOOK_PAGE_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("FACEBOOK_APP_SECRET", SECRET)
    monkeypatch.setenv(messenger.GRAPH_URL_ENV, graph.url)
    assert await asyncio.to_thread(cli.main, ["messenger-profile"]) == 0
    (call,) = graph.calls
    assert call["path"] == "/v21.0/me/messenger_profile" and call["json"] == profile_body()
    assert call["query"]["access_token"] == TOKEN
    out = capsys.readouterr()
    assert "/get_started" in out.out and TOKEN not in out.out + out.err and SECRET not in out.out + out.err
    graph.status = 400
    graph.answer = {"error": {"message": "(#100) greeting too long", "code": 100}}
    assert await asyncio.to_thread(cli.main, ["messenger-profile"]) == 1


def test_the_subcommand_needs_the_token_and_secret(monkeypatch, capsys):
    monkeypatch.delenv("FACEBOOK_PAGE_ACCESS_TOKEN", raising=False)
    monkeypatch.setenv("FACEBOOK_APP_SECRET", SECRET)
    assert cli.main(["messenger-profile"]) == 2
    assert "FACEBOOK_PAGE_ACCESS_TOKEN" in capsys.readouterr().err
