"""A read-only, time-bounded PostgreSQL session, and URLs that never show a password."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

APPLICATION_NAME = "mkdocs-dbschema"


class DatabaseError(Exception):
    """A failure to reach or read the database, with a message safe to print."""


@dataclass(frozen=True)
class SessionSettings:
    connect_timeout: int = 5  # seconds
    statement_timeout: int = 30_000  # milliseconds
    lock_timeout: int = 3_000  # milliseconds
    search_path: str | None = None


def parse_url(dsn: str) -> URL:
    """`postgresql://` or `postgresql+psycopg://` → a psycopg 3 SQLAlchemy URL."""
    try:
        url = sa.make_url(dsn)
    except (ArgumentError, ValueError):
        # Not echoed: where the URL syntax breaks, so may the password masking.
        raise DatabaseError(
            "dsn is not a PostgreSQL URL (postgresql://user:password@host:port/database; "
            "percent-encode special characters in the password)"
        ) from None
    if url.host and "@" in url.host:
        raise DatabaseError("dsn: percent-encode an @ in the password as %40 (the host part holds an @)")
    if url.get_backend_name() not in ("postgresql", "postgres"):
        raise DatabaseError(f"dsn must start with postgresql:// (got {url.get_backend_name()}://...)")
    return url.set(drivername="postgresql+psycopg")


def _holds_password(parameter: str) -> bool:
    """`password`, `sslpassword`, ...: URL query parameters that carry a secret."""
    return "pass" in parameter.lower()


def display_url(url: URL) -> str:
    # Passwords may also come as query parameters (?password=, ?sslpassword=).
    query = {k: ("***" if _holds_password(k) else v) for k, v in url.query.items()}
    if not url.password:  # the embedded server's empty password is no secret worth a ***
        url = URL.create("postgresql", url.username, None, url.host, url.port, url.database)
    return url.set(drivername="postgresql", query=query).render_as_string(hide_password=True)


_URL_PASSWORD = re.compile(
    r"(?P<head>[a-z][a-z0-9+.-]{0,31}://[^:/?#@\s]{0,256}:)(?P<pw>[^@\s]{0,1024})@", re.I
)
_KV_PASSWORD = re.compile(r"(?P<head>password\s*=\s*)(?P<pw>'[^']*'|\S+)", re.I)


def _mask_token(text: str, secret: str, names: list[str]) -> str:
    """`secret` masked where it is a whole token (a password `x` is no `x` in `exist`) and
    not inside one of `names`."""
    before = r"(?<!\w)" if re.match(r"\w", secret) else ""
    after = r"(?!\w)" if re.match(r"\w", secret[-1]) else ""
    kept = [m.span() for name in names for m in re.finditer(re.escape(name), text)]

    def hide(match: re.Match[str]) -> str:
        inside_name = any(start < match.end() and match.start() < end for start, end in kept)
        return match.group() if inside_name else "***"

    return re.sub(before + re.escape(secret) + after, hide, text)


def mask_secrets(text: str, *secrets: str | None, keep: Iterable[str | None] = ()) -> str:
    """Hide URL passwords, `password=` pairs and any known secret in free text. A known
    secret is hidden as a whole token only, and never inside one of the names in `keep`
    (the user, host and database): a password `postgres` leaves `database postgres` alone,
    since the name says no more than it did."""
    names = [name for name in keep if name]
    for secret in secrets:
        if secret:
            text = _mask_token(text, secret, names)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + "***@", text)
    return _KV_PASSWORD.sub(lambda m: m["head"] + "***", text)


def _escape_option(value: str) -> str:
    # The server splits `options` on any whitespace; a backslash keeps one literal.
    return re.sub(r"([\\\s])", r"\\\1", value)


def create_engine(url: URL, settings: SessionSettings) -> Engine:
    options = [
        "default_transaction_read_only=on",
        f"statement_timeout={int(settings.statement_timeout)}",
        f"lock_timeout={int(settings.lock_timeout)}",
        "idle_in_transaction_session_timeout=60000",
        # Every scan starts at the table's first block: sample rows in storage order repeat.
        "synchronize_seqscans=off",
        # The catalog reads are large joins the planner costs high: on a server with JIT
        # (Debian's, Supabase's) compiling them took longer than running them, 4.6 s of a
        # 1,000-table read (docs/plugin/benchmarks.md). Plans are the same without it.
        "jit=off",
    ]
    if settings.search_path:
        options.append("search_path=" + settings.search_path)
    return sa.create_engine(
        url,
        poolclass=NullPool,
        connect_args={
            "connect_timeout": int(settings.connect_timeout),
            "application_name": APPLICATION_NAME,
            # A dropped network while the session idles: found in 10 + 3 x 5 s. Data sent
            # and never acknowledged: given up after 30 s. (The watchdog covers the rest.)
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
            "tcp_user_timeout": 30_000,
            "options": " ".join("-c " + _escape_option(o) for o in options),
        },
    )


def _secrets_of(url: URL) -> list[str]:
    values = [str(url.password)] if url.password else []
    for key, value in url.query.items():
        if _holds_password(key):
            values.extend([value] if isinstance(value, str) else value)
    return values


def _listed(value: object) -> str:
    """A URL part that may repeat (`?host=a&host=b`), for a message."""
    return ", ".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def describe_failure(url: URL, error: BaseException) -> str:
    """One line: where we tried to connect and the driver's reason, never the password."""
    original = getattr(error, "orig", None) or error
    reason = " ".join(str(original).split())
    reason = re.sub(r"^connection failed:\s*", "", reason)
    hosts = url.host or url.query.get("host") or "localhost"
    ports = url.port or url.query.get("port") or 5432
    # Hosts of a multi-host URL carry their own ports (`?host=a:5433&host=b:5433`).
    port = "" if ":" in _listed(hosts) else f", port {_listed(ports)}"
    where = f"host {_listed(hosts)}{port}, database {url.database or url.username or '?'}"
    names = [url.username, url.database, *(hosts if isinstance(hosts, tuple) else [str(hosts)])]
    return mask_secrets(f"cannot connect to PostgreSQL ({where}): {reason}", *_secrets_of(url), keep=names)


def connect(engine: Engine) -> sa.Connection:
    try:
        return engine.connect()
    except DBAPIError as error:
        raise DatabaseError(describe_failure(engine.url, error)) from None
