"""Helpline triage and handoff tickets.

- config.py           config/helpline.yml and the environment (HELPLINE_*, RASA_URL, RASA_TOKEN)
- wording.py          what the person is told about the helpline (hours, phone, when staff answer)
- handoff_lexicon.py  wording that asks for a person unambiguously (data/lexicons/handoff.yml)
- tickets.py          a redacted ticket from a conversation (triage, language, topic, summary, transcript)
- store.py            tickets and their live messages in SQL: SQLite by default, PostgreSQL by URL (SQLAlchemy Core)
- webhook.py          signed JSON delivery of new tickets (X-Helpline-Signature: sha256=...)
- rasa_api.py         runs the staff-reply and handback actions in a conversation through Rasa's HTTP API
- service.py          opening (store + webhook), claiming, replying live, and closing (store + handback) tickets
- accounts.py         staff accounts (argon2 hashes), login sessions and login throttling, in the tickets' database
- console/            the staff console (Sanic + Jinja2): queue, tickets, live updates; words in data/content/console.yml
- cli.py              `python -m bot helpline list|show|claim|reply|close|add-staff|serve`

Redaction (`redact(text)`) lives in bot/privacy/redact.py. See docs/helpline.md.
"""
