"""Staff accounts, their login sessions and login throttling, in the helpline's database.

Tables (SQLAlchemy 1.4 Core, created on first use, in the tickets' database):

- `helpline_staff`: one row per member of staff. `name` is the login (stored lower-case,
  so unique without regard to case), `display_name` what the person in the chat sees
  ("Anna", "Rådgiver"), `password_hash` an argon2id hash (argon2-cffi), `disabled`.
- `helpline_sessions`: one row per login. The browser holds a random token
  (`secrets.token_urlsafe(32)`); only its SHA-256 is stored, with the session's own CSRF
  token, its language, when it was made and when it expires (absolute: 8 hours unless
  told otherwise), and when it was revoked (logout). An expired or revoked session, or
  one of a disabled account, never works again.
- `helpline_login_failures`: one row per failed login, keyed by the SHA-256 of the
  account name tried and, separately, of the client's address (never the address
  itself). `max_failures` failures within `failure_window` lock that name, or that
  address, for `lockout` after the failure that reached the limit. While locked, even
  the right password is refused, with the same answer as a wrong one plus "try again
  later"; names that have no account are locked the same way, so the answers never tell
  whether an account exists. A name that has no account is checked against a dummy hash,
  so that it takes as long as a wrong password. Failures older than the window and the
  lockout are deleted as new ones come in.

Nothing here logs a password, a session token, an address or a name that was tried.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, List, Optional

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.helpline.store import Database, UTCDateTime, utcnow

logger = logging.getLogger(__name__)

MIN_PASSWORD_CHARS = 12
MAX_PASSWORD_CHARS = 1024  # longer ones are refused without hashing (no work for an attacker to make)
MAX_NAME_CHARS = 64
NAME_PATTERN = re.compile(r"^[\w.@-]+$")  # letters (æøå too), digits, . @ - _
SESSION_LIFETIME = timedelta(hours=8)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
LANGUAGES = ("da", "en")
ACCOUNT, ADDRESS = "account", "address"


class AccountError(ValueError):
    """An account could not be made or changed; the message says why (no password in it)."""


@dataclass(frozen=True)
class Staff:
    id: int
    name: str
    display_name: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Session:
    """A valid login. `token` is set only on the object `login` returns (the cookie's value)."""

    id: int
    staff: Staff
    csrf: str
    language: str
    created_at: datetime
    expires_at: datetime
    token: Optional[str] = None


@dataclass(frozen=True)
class LoginResult:
    """A session, or why not: `locked` (too many failures: try again later) or a wrong name or password."""

    session: Optional[Session] = None
    locked: bool = False

    @property
    def ok(self) -> bool:
        return self.session is not None


def normalize_name(name: str) -> str:
    return unicodedata.normalize("NFC", (name or "").strip()).lower()


def check_name(name: str) -> str:
    """The login name as stored, or AccountError."""
    normal = normalize_name(name)
    if not normal or len(normal) > MAX_NAME_CHARS or not NAME_PATTERN.match(normal):
        raise AccountError(
            f"the name must be 1 to {MAX_NAME_CHARS} letters, digits or . @ - _ (no spaces)"
        )
    return normal


def check_display_name(display_name: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", display_name or "").split())
    if not text or len(text) > MAX_NAME_CHARS or any(unicodedata.category(c).startswith("C") for c in text):
        raise AccountError(f"the display name must be 1 to {MAX_NAME_CHARS} printable characters")
    return text


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_CHARS:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_CHARS} characters long")
    if len(password) > MAX_PASSWORD_CHARS:
        raise AccountError(f"the password must be at most {MAX_PASSWORD_CHARS} characters long")
    return password


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def failure_key(kind: str, value: str) -> str:
    """What a failure is kept under: a SHA-256, never the name or address itself."""
    return hashlib.sha256(f"helpline-login-{kind}:{value}".encode("utf-8")).hexdigest()


def _tables(metadata: sa.MetaData):
    staff = sa.Table(
        "helpline_staff",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(MAX_NAME_CHARS), nullable=False, unique=True),
        sa.Column("display_name", sa.String(MAX_NAME_CHARS), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False, default=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    sessions = sa.Table(
        "helpline_sessions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("staff_id", sa.Integer, nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False, index=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
    )
    failures = sa.Table(
        "helpline_login_failures",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(64), nullable=False, index=True),
        sa.Column("at", UTCDateTime(), nullable=False, index=True),
    )
    return staff, sessions, failures


class Accounts(Database):
    """Staff accounts and sessions. Safe to share between threads."""

    def __init__(
        self,
        url: str,
        *,
        schema: Optional[str] = None,
        timeout: float = 5.0,
        session_lifetime: timedelta = SESSION_LIFETIME,
        max_failures: int = MAX_FAILURES,
        failure_window: timedelta = FAILURE_WINDOW,
        lockout: timedelta = LOCKOUT,
        clock: Callable[[], datetime] = utcnow,
        hasher: Optional[PasswordHasher] = None,
    ) -> None:
        if session_lifetime <= timedelta(0):
            raise ValueError("the session lifetime must be positive")
        super().__init__(url, schema, timeout)
        self.session_lifetime = session_lifetime
        self.max_failures = max(1, int(max_failures))
        self.failure_window = failure_window
        self.lockout = lockout
        self.clock = clock
        self.hasher = hasher or PasswordHasher()
        self.staff_table, self.sessions_table, self.failures_table = _tables(self.metadata)
        self._dummy_hash: Optional[str] = None

    # -- accounts -----------------------------------------------------------------------

    def add(self, name: str, password: str, display_name: Optional[str] = None) -> Staff:
        """A new account; AccountError when the name is taken or a value is not acceptable.
        The display name defaults to the name as typed."""
        normal = check_name(name)
        shown = check_display_name(display_name if display_name is not None else name.strip())
        password_hash = self.hasher.hash(check_password(password))
        now = self.clock()
        t = self.staff_table
        try:
            with self.engine.begin() as connection:
                if connection.execute(sa.select(t.c.id).where(t.c.name == normal)).first():
                    raise AccountError(f"a staff account named {normal!r} already exists")
                result = connection.execute(
                    t.insert().values(name=normal, display_name=shown, password_hash=password_hash, disabled=False,
                                      created_at=now)
                )
                staff_id = int(result.inserted_primary_key[0])
        except sa.exc.IntegrityError:
            raise AccountError(f"a staff account named {normal!r} already exists") from None
        logger.info("helpline: staff account %s added", normal)
        return Staff(staff_id, normal, shown, False, now)

    def get(self, name: str) -> Optional[Staff]:
        t = self.staff_table
        with self.engine.connect() as connection:
            row = connection.execute(t.select().where(t.c.name == normalize_name(name))).mappings().first()
        return _staff(row) if row else None

    def all(self) -> List[Staff]:
        t = self.staff_table
        with self.engine.connect() as connection:
            return [_staff(row) for row in connection.execute(t.select().order_by(t.c.name)).mappings()]

    def set_disabled(self, name: str, disabled: bool = True) -> Staff:
        """Disables (or enables) an account; a disabled account's sessions stop working at once."""
        staff = self.get(name)
        if staff is None:
            raise AccountError(f"no staff account named {normalize_name(name)!r}")
        with self.engine.begin() as connection:
            connection.execute(self.staff_table.update().where(self.staff_table.c.id == staff.id).values(disabled=disabled))
            if disabled:
                self._revoke_where(connection, self.sessions_table.c.staff_id == staff.id)
        logger.info("helpline: staff account %s %s", staff.name, "disabled" if disabled else "enabled")
        return self.get(name)  # type: ignore[return-value]

    def set_password(self, name: str, password: str) -> None:
        """A new password; the account's sessions end."""
        staff = self.get(name)
        if staff is None:
            raise AccountError(f"no staff account named {normalize_name(name)!r}")
        password_hash = self.hasher.hash(check_password(password))
        with self.engine.begin() as connection:
            connection.execute(
                self.staff_table.update().where(self.staff_table.c.id == staff.id).values(password_hash=password_hash)
            )
            self._revoke_where(connection, self.sessions_table.c.staff_id == staff.id)
        logger.info("helpline: password of staff account %s changed", staff.name)

    # -- logging in ---------------------------------------------------------------------

    def login(self, name: str, password: str, address: str = "", language: str = "da") -> LoginResult:
        """A new session when the name and password are right and neither the name nor the
        address is locked; else a LoginResult without one (`locked` when locked)."""
        now = self.clock()
        normal = normalize_name(name)[: MAX_NAME_CHARS * 4]
        keys = [(ACCOUNT, failure_key(ACCOUNT, normal)), (ADDRESS, failure_key(ADDRESS, address or "-"))]
        self._forget_old_failures(now)
        if any(self._locked(key, now) for _, key in keys):
            logger.warning("helpline: login refused (locked)")
            return LoginResult(locked=True)
        t = self.staff_table
        with self.engine.connect() as connection:
            row = connection.execute(t.select().where(t.c.name == normal)).mappings().first() if normal else None
        if not self._verify(row, password or ""):
            with self.engine.begin() as connection:
                connection.execute(self.failures_table.insert(), [{"kind": kind, "key": key, "at": now} for kind, key in keys])
            logger.warning("helpline: login refused (wrong name or password)")
            # the failure that reaches the limit locks at once: the next try says "later"
            return LoginResult(locked=any(self._locked(key, now) for _, key in keys))
        staff = _staff(row)
        with self.engine.begin() as connection:
            connection.execute(self.failures_table.delete().where(self.failures_table.c.key == keys[0][1]))
        session = self._new_session(staff, language, now)
        logger.info("helpline: staff account %s logged in", staff.name)
        return LoginResult(session=session)

    def _verify(self, row, password: str) -> bool:
        """Whether the password is right; as slow for a missing or disabled account as for a wrong password."""
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        stored = row["password_hash"] if row is not None else self._dummy()
        try:
            self.hasher.verify(stored, password)
            right = True
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            right = False
        if row is None or row["disabled"]:
            return False
        if right and self.hasher.check_needs_rehash(stored):
            with self.engine.begin() as connection:
                connection.execute(
                    self.staff_table.update().where(self.staff_table.c.id == row["id"])
                    .values(password_hash=self.hasher.hash(password))
                )
        return right

    def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(24))
        return self._dummy_hash

    def _locked(self, key: str, now: datetime) -> bool:
        """`max_failures` failures within the window, the last of them less than `lockout` ago."""
        f = self.failures_table
        since = now - self.failure_window - self.lockout
        with self.engine.connect() as connection:
            times = [row[0] for row in connection.execute(
                sa.select(f.c.at).where(f.c.key == key, f.c.at > since).order_by(f.c.at)
            )]
        n = self.max_failures
        for last in range(n - 1, len(times)):
            if times[last] - times[last - n + 1] <= self.failure_window and now - times[last] < self.lockout:
                return True
        return False

    def _forget_old_failures(self, now: datetime) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                self.failures_table.delete().where(self.failures_table.c.at <= now - self.failure_window - self.lockout)
            )

    # -- sessions -----------------------------------------------------------------------

    def _new_session(self, staff: Staff, language: str, now: datetime) -> Session:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        language = language if language in LANGUAGES else LANGUAGES[0]
        expires = now + self.session_lifetime
        s = self.sessions_table
        with self.engine.begin() as connection:
            connection.execute(s.delete().where(s.c.expires_at <= now))  # housekeeping
            result = connection.execute(
                s.insert().values(token_hash=token_hash(token), staff_id=staff.id, csrf=csrf, language=language,
                                  created_at=now, expires_at=expires, revoked_at=None)
            )
            session_id = int(result.inserted_primary_key[0])
        return Session(session_id, staff, csrf, language, now, expires, token=token)

    def session(self, token: Optional[str]) -> Optional[Session]:
        """The session this token opens: None when unknown, expired, revoked, or its account disabled."""
        if not token or len(token) > 256:
            return None
        s, t = self.sessions_table, self.staff_table
        query = (
            sa.select(s, t.c.name, t.c.display_name, t.c.disabled, t.c.created_at.label("staff_created_at"))
            .select_from(s.join(t, s.c.staff_id == t.c.id))
            .where(s.c.token_hash == token_hash(token))
        )
        with self.engine.connect() as connection:
            row = connection.execute(query).mappings().first()
        if row is None or row["revoked_at"] is not None or row["disabled"] or row["expires_at"] <= self.clock():
            return None
        staff = Staff(int(row["staff_id"]), row["name"], row["display_name"], bool(row["disabled"]), row["staff_created_at"])
        return Session(int(row["id"]), staff, row["csrf"], row["language"], row["created_at"], row["expires_at"])

    def set_language(self, session: Session, language: str) -> Session:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}")
        with self.engine.begin() as connection:
            connection.execute(
                self.sessions_table.update().where(self.sessions_table.c.id == session.id).values(language=language)
            )
        return Session(session.id, session.staff, session.csrf, language, session.created_at, session.expires_at, session.token)

    def logout(self, token: Optional[str]) -> bool:
        """Revokes the session; whether there was one to revoke."""
        if not token:
            return False
        with self.engine.begin() as connection:
            count = self._revoke_where(connection, self.sessions_table.c.token_hash == token_hash(token))
        return count > 0

    def _revoke_where(self, connection, condition) -> int:
        s = self.sessions_table
        result = connection.execute(s.update().where(condition, s.c.revoked_at.is_(None)).values(revoked_at=self.clock()))
        return int(result.rowcount or 0)


def csrf_ok(session: Session, candidate: Optional[str]) -> bool:
    """Constant-time comparison of a form's or header's CSRF token with the session's."""
    return bool(candidate) and hmac.compare_digest(str(candidate).encode("utf-8"), session.csrf.encode("utf-8"))


def _staff(row) -> Staff:
    return Staff(int(row["id"]), row["name"], row["display_name"], bool(row["disabled"]), row["created_at"])
