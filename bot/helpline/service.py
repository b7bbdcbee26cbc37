"""The helpline: opens tickets (store, then webhook), lets staff claim them and reply
live, and closes them (store, then the assistant takes the conversation back).

Staff (console or CLI) use the sync methods `claim`, `reply` and `close`. A reply is
stored first (redacted, with its original until delivered), then delivered by asking
the Rasa server to run action_staff_message, which sends every undelivered reply of
the conversation on the person's channel. A failed delivery is kept and goes out with
the next reply or `deliver_pending`.

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
from bot.privacy.redact import redact

MAX_REPLY_CHARS = 2000

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


@dataclass
class Replied:
    """What a staff reply did: the stored message, and whether it reached the person."""

    message: Optional[store.LiveMessage] = None
    delivered: bool = False
    error: Optional[str] = None  # why it was refused or not delivered (no personal data)

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
            track(loop.run_in_executor(None, self.deliver, ticket))
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
        return track(asyncio.get_running_loop().run_in_executor(None, self._open_quietly, new))

    def _open_quietly(self, new: store.NewTicket) -> Optional[store.Ticket]:
        try:
            return self.open_or_update(new)
        except Exception as error:  # noqa: BLE001
            logger.error("helpline: ticket not stored (%s)", type(error).__name__)
            return None

    # -- staff ------------------------------------------------------------------------

    def claim(self, ticket_id: int, staff_name: str) -> Optional[store.Ticket]:
        """The ticket is this staff member's. None when there is no such ticket."""
        ticket = self.store.claim(ticket_id, staff_name)
        if ticket is not None:
            logger.info("helpline: ticket %d claimed", ticket.id)
        return ticket

    def reply(self, ticket_id: int, text: str, staff_name: str) -> Replied:
        """Stores a staff reply and delivers it live. Claims an unclaimed ticket for the writer."""
        text = (text or "").strip()
        ticket = self.store.get(ticket_id)
        if ticket is None:
            return Replied(error="no such ticket")
        if not ticket.is_open:
            return Replied(error="the ticket is closed")
        if not text:
            return Replied(error="the reply is empty")
        if len(text) > MAX_REPLY_CHARS:
            return Replied(error=f"the reply is longer than {MAX_REPLY_CHARS} characters")
        if not ticket.pauses_conversation:
            return Replied(error="this ticket does not hold a live conversation")
        if self.config.handover_app_id and ticket.channel == "messenger":
            return Replied(error="this conversation is answered in Meta's inbox (Handover Protocol)")
        if ticket.claimed_by != staff_name:
            self.store.claim(ticket_id, staff_name)
        message = self.store.add_message(ticket_id, store.STAFF, redact(text), staff_name=staff_name, pending_text=text)
        error = self.deliver_pending(ticket.conversation_id)
        return Replied(message=message, delivered=error is None, error=error)

    def deliver_pending(self, conversation_id: str) -> Optional[str]:
        """Asks the Rasa server to send this conversation's undelivered staff replies; the
        reason when it could not."""
        try:
            rasa_api.execute(
                self.config.rasa_url, conversation_id, rasa_api.STAFF_MESSAGE_ACTION,
                token=self.config.rasa_token, timeout=self.config.rasa_timeout,
            )
        except rasa_api.ResumeError as error:
            logger.error("helpline: staff reply not delivered: %s", error)
            return str(error)
        return None

    # -- closing ------------------------------------------------------------------------

    def close(self, ticket_id: int, resume: bool = True) -> Optional[Closed]:
        """Closes the ticket and, when it paused the conversation and no other open ticket
        still does, hands the conversation back to the assistant, which says so in one
        line. Closing a closed ticket that could not hand back tries again. None when
        there is no such ticket."""
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
            rasa_api.execute(
                self.config.rasa_url, ticket.conversation_id, rasa_api.HAND_BACK_ACTION,
                token=self.config.rasa_token, timeout=self.config.rasa_timeout,
            )
        except rasa_api.ResumeError as error:
            logger.error("helpline: ticket %d closed, conversation not resumed: %s", ticket.id, error)
            return Closed(ticket, error=str(error))
        self.store.mark_resumed(ticket.id)
        return Closed(self.store.get(ticket.id) or ticket, resumed=True)


def track(future: "asyncio.Future") -> "asyncio.Future":
    """Keeps background work referenced until it is done, and logs what escapes it."""
    _background.add(future)

    def done(finished: "asyncio.Future") -> None:
        _background.discard(finished)
        if not finished.cancelled() and finished.exception() is not None:
            logger.error("helpline: background work failed (%s)", type(finished.exception()).__name__)

    future.add_done_callback(done)
    return future


async def wait_for_background(timeout: float = 30.0) -> None:
    """Waits for this event loop's background ticket work (tests; a clean shutdown). Work
    of another, finished loop can never complete here, so it is not waited for."""
    loop = asyncio.get_running_loop()
    pending = [future for future in _background if future.get_loop() is loop]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


@lru_cache(maxsize=1)
def default() -> Helpline:
    """The helpline of this process, configured from config/helpline.yml and the environment."""
    helpline = Helpline(load_config())
    left = helpline.config.placeholders()
    if left:
        logger.warning("helpline: config/helpline.yml still holds placeholders (%s); neutral lines are shown instead",
                       ", ".join(left))
    return helpline
