"""The helpline's staff console: a Sanic app with Jinja2 templates (see app.py).

`make_app(helpline, accounts)` builds it; `serve(...)` runs it (`python -m bot helpline serve`).
"""
from bot.helpline.console.app import COOKIE, make_app, serve

__all__ = ["COOKIE", "make_app", "serve"]
