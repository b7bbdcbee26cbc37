"""Rasa's credentials come from credentials.yml plus secrets from the environment only."""
from __future__ import annotations

import stat

from bot import credentials

SECRETS = {"FACEBOOK_VERIFY_TOKEN": "v", "FACEBOOK_APP_SECRET": "s", "FACEBOOK_PAGE_ACCESS_TOKEN": "t"}


def test_without_secrets_only_the_channels_that_need_none_are_on():
    built = credentials.build({})
    assert "bot.channels.rest.SafeRestInput" in built  # the REST channel, hardened (still /webhooks/rest/)
    assert "rest" not in built  # Rasa's own REST channel would take the same URL
    assert credentials.MESSENGER_CHANNEL not in built


def test_messenger_needs_all_three_secrets():
    partial = {k: v for k, v in SECRETS.items() if k != "FACEBOOK_APP_SECRET"}
    assert credentials.MESSENGER_CHANNEL not in credentials.build(partial)


def test_the_written_file_is_private(tmp_path):
    path = credentials.write(tmp_path / "c.yml", {})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_repo_file_holds_no_secret():
    text = credentials.BASE.read_text(encoding="utf-8")
    assert "page-access-token:" not in text and "secret:" not in text


def test_the_rest_channel_keeps_its_url():
    from rasa.core.channels.channel import InputChannel

    from bot.channels.rest import SafeRestInput

    channel = SafeRestInput.from_credentials(credentials.build({})["bot.channels.rest.SafeRestInput"])
    assert isinstance(channel, InputChannel) and channel.url_prefix() == "rest"
