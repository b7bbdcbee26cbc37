"""Helpline triage and handoff tickets.

- config.py    config/helpline.yml and the environment (HELPLINE_*, RASA_URL, RASA_TOKEN)
- tickets.py   a redacted ticket from a conversation (triage, language, topic, summary, transcript)
- store.py     tickets in SQL: SQLite by default, PostgreSQL by URL (SQLAlchemy Core)
- webhook.py   signed JSON delivery of new tickets (X-Helpline-Signature: sha256=...)
- rasa_api.py  resumes a paused conversation through Rasa's HTTP API
- service.py   opening (store + webhook) and closing (store + resume) tickets
- web.py       the staff page; cli.py: `python -m bot helpline list|show|close|serve`

Redaction (`redact(text)`) lives in bot/privacy/redact.py. See docs/helpline.md.
"""
