"""The helpline: opens tickets (store, then webhook) and closes them (store, then resume).

The assistant's actions use the async helpers: `open_now` (the handoff, which waits for
the ticket so that it only promises a person when one will be told) and
`open_in_background` (the emergency, whose 112 reply must not wait for anything).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Set

from bot.helpline import rasa_api, store, webhook
from bot.helpline.config import HelplineConfig
from bot.helpline.config import load as load_config

logger = logging.getLogger(__name__)

_background: Set["asyncio.Future[Optional[store.Ticket]]"] = set()


@dataclass
class Closed:
    """What closing did: the ticket, and whether the conversation was resumed."""

    ticket: store.Ticket
    resumed: bool = False
    still_paused_by: tuple = ()  # other open tickets that keep the conversation paused
    error: Optional[str] = None  # why resuming failed (no personal data)

    @property
    def ok(self) -> bool:
        return self.error is None


class Helpline:
    def __init__(self, config: HelplineConfig, ticket_store: Optional[store.TicketStore] = None) -> None:
        self.config = config
        self.store = ticket_store or store.TicketStore(config.database_url, timeout=config.database_timeout)

    # -- opening ------------------------------------------------------------------------

    def open(self, new: store.NewTicket) -> store.Ticket:
        """Stores the ticket and delivers it to the webhook (when one is set)."""
        ticket = self.store.create(new)
        logger.info(
            "helpline: ticket %d opened (reason=%s triage=%s language=%s)", ticket.id, ticket.reason, ticket.triage, ticket.language
        )
        self.deliver(ticket)
        return ticket

    def deliver(self, ticket: store.Ticket) -> Optional[bool]:
        """None when no webhook is set; else whether it was delivered (recorded on the ticket)."""
        if not self.config.webhook_url:
            return None
        delivered = webhook.deliver(
            self.config.webhook_url,
            self.config.webhook_secret,
            ticket.as_dict(),
            timeout=self.config.webhook_timeout,
            attempts=self.config.webhook_attempts,
            label=f"ticket {ticket.id}",
        )
        ticket.delivery = store.DELIVERED if delivered else store.FAILED
        try:
            self.store.mark_delivery(ticket.id, ticket.delivery)
        except Exception as error:  # noqa: BLE001
            logger.error("helpline: delivery of ticket %d not recorded (%s)", ticket.id, type(error).__name__)
        return delivered

    async def open_now(self, new: store.NewTicket) -> Optional[store.Ticket]:
        """Stores the ticket (waiting at most the database timeout) and delivers it in the
        background. None when it could not be stored: the caller must not promise a person."""
        loop = asyncio.get_running_loop()
        try:
            ticket = await asyncio.wait_for(
                loop.run_in_executor(None, self.store.create, new), timeout=self.config.database_timeout + 1
            )
        except Exception as error:  # noqa: BLE001 - the conversation goes on without a ticket
            logger.error("helpline: ticket not stored (%s)", type(error).__name__)
            return None
        logger.info(
            "helpline: ticket %d opened (reason=%s triage=%s language=%s)", ticket.id, ticket.reason, ticket.triage, ticket.language
        )
        if self.config.webhook_url:
            _track(loop.run_in_executor(None, self.deliver, ticket))
        return ticket

    def open_or_update(self, new: store.NewTicket) -> store.Ticket:
        """Like `open`, but while this conversation has an open ticket for the same reason
        (a second message in the same emergency), that ticket gets the newer summary and
        transcript instead of a second ticket."""
        current = self.store.open_for(new.conversation_id, new.reason)
        if current is None:
            return self.open(new)
        self.store.update_content(current.id, new.summary, new.transcript)
        logger.info("helpline: ticket %d updated (reason=%s)", current.id, current.reason)
        return self.store.get(current.id) or current

    def open_in_background(self, new: store.NewTicket) -> "asyncio.Future[Optional[store.Ticket]]":
        """`open_or_update` without holding up the reply. Failures are logged."""
        return _track(asyncio.get_running_loop().run_in_executor(None, self._open_quietly, new))

    def _open_quietly(self, new: store.NewTicket) -> Optional[store.Ticket]:
        try:
            return self.open_or_update(new)
        except Exception as error:  # noqa: BLE001
            logger.error("helpline: ticket not stored (%s)", type(error).__name__)
            return None

    # -- closing ------------------------------------------------------------------------

    def close(self, ticket_id: int, resume: bool = True) -> Optional[Closed]:
        """Closes the ticket and, when it paused the conversation and no other open ticket
        still does, resumes the conversation. Closing a closed ticket that could not resume
        the conversation tries again. None when there is no such ticket."""
        ticket = self.store.close(ticket_id)
        if ticket is None:
            return None
        logger.info("helpline: ticket %d closed", ticket.id)
        if not (resume and ticket.pauses_conversation) or ticket.resumed_at is not None:
            return Closed(ticket)
        others = tuple(self.store.open_pausing(ticket.conversation_id))
        if others:
            return Closed(ticket, still_paused_by=others)
        try:
            rasa_api.resume(
                self.config.rasa_url, ticket.conversation_id, token=self.config.rasa_token, timeout=self.config.rasa_timeout
            )
        except rasa_api.ResumeError as error:
            logger.error("helpline: ticket %d closed, conversation not resumed: %s", ticket.id, error)
            return Closed(ticket, error=str(error))
        self.store.mark_resumed(ticket.id)
        return Closed(self.store.get(ticket.id) or ticket, resumed=True)


def _track(future: "asyncio.Future") -> "asyncio.Future":
    """Keeps background work referenced until it is done, and logs what escapes it."""
    _background.add(future)

    def done(finished: "asyncio.Future") -> None:
        _background.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            logger.error("helpline: background work failed (%s)", type(finished.exception()).__name__)

    future.add_done_callback(done)
    return future


async def wait_for_background(timeout: float = 30.0) -> None:
    """Waits for background ticket work (tests; a clean shutdown)."""
    pending = list(_background)
    if pending:
        await asyncio.wait(pending, timeout=timeout)


@lru_cache(maxsize=1)
def default() -> Helpline:
    """The helpline of this process, configured from config/helpline.yml and the environment."""
    helpline = Helpline(load_config())
    if helpline.config.placeholders_left():
        logger.warning("helpline: opening hours or contact details in config/helpline.yml are still placeholders")
    return helpline
