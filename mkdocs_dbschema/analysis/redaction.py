"""Redaction of sample values, before any of them reaches Markdown, HTML or a log.

Two kinds of rules, both configurable by name:

- column rules match a column name (or a JSON key at any depth) and mask the
  whole value in a way that fits the rule: external ids keep their shape, names
  become "Account A", phone digits become bullets, secrets become [REDACTED];
- value rules match text inside any value (JWTs, bearer tokens, prefixed API
  keys, emails, phone numbers, URLs with credentials or token parameters, long
  random tokens) and mask only the match, so an error message stays readable.

Internal UUIDs are kept: foreign keys need them to make sense.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from ..catalog.model import Table
from ..catalog.samples import RawSample

REDACTED = "[REDACTED]"
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Column (and JSON key) names, checked in order: the first match decides. A JSON key
# is also tried joined to its parent key (`profile` → `name` reads as `profile_name`).
COLUMN_RULES: dict[str, str] = {
    "external id": (
        r"(^|_)(external|motopress|airbnb|whatsapp|wamid|waba|mphb|meta|ical|ics|stripe"
        r"|phone_number|message|template|listing|post)_?(id|uid|ref)$|^external_|(^|_)uid$|^wamid$"
    ),
    "secret": r"secret|passw|pwd|hash|salt|private_?key|signing|encrypt",
    "token": r"token|api_?key|apikey|access_?key|auth(?!ors?$|or_)|credential|bearer|session|cookie|verify",
    "email": r"e_?mail",
    "phone": r"phone|msisdn|mobile|wa_?id|^(from|to|recipient_id)$",
    "url": r"(feed|webhook|ical|ics|callback|calendar|endpoint|redirect)_?(url|uri|link)",
    "name": (
        r"(^|_)(account|display|business|full|first|last|guest|contact|customer|owner|sender"
        r"|recipient|profile|user)_?name$"
    ),
}
SECRETS_WHOLE = ("secret", "token")  # a JSON object or array under these keys is hidden whole

# Patterns inside any text, applied in order; named apart from the column rules so that
# `disable` drops exactly one of them.
VALUE_RULES: dict[str, str] = {
    "url with secrets": r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+",
    "secret pair": (
        r"(?i)\b(pass(?:word)?|passwd|pwd|secret|client_secret|api_?key|access_?token|refresh_?token"
        r"|auth_?token|token)\b(\\?[\"']?\s*(?:=>|[=:])\s*\\?[\"']?)(?!\[REDACTED|•••)([^\s\"'\\,;&}\]]+)"
    ),
    "jwt": r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
    "http auth": r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}",
    "api key": (
        r"\b(?:(?:sk|pk|rk)_(?:live|test)_|whsec_|(?:ck|cs)_|xox[abpr]-|gh[pousr]_|glpat-|AKIA"
        r"|EAA[A-Za-z]{0,3})[A-Za-z0-9+/=_-]{8,}"
    ),
    "email address": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b",
    "phone number": r"(?<![\w+])\+\d[\d \-().]{6,18}\d\b",
    "random token": r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b",
}

_SECRET_PARAM = re.compile(
    r"(?i)token|key|secret|sig|signature|auth|pass|pwd|^pw$|code|session|jwt|access|^[stk]$|^hash$"
)
# Inside a URL path a shorter random segment is already a secret (Slack, Discord webhooks).
_PATH_TOKEN = re.compile(r"^(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}$")
_PREFIX = re.compile(r"^((?:sk|pk|rk)_(?:live|test)_|whsec_|ck_|cs_|xox[abpr]-|gh[pousr]_|glpat-|AKIA|EAA)")


def mask_shape(value: str) -> str:
    """Keep a leading prefix (`wamid.`, `MOTO_`) and punctuation; letters and digits become x."""
    match = re.match(r"^([A-Za-z]+[._:-])", value)
    prefix = match.group(1) if match else ""
    return prefix + re.sub(r"[A-Za-z0-9]", "x", value[len(prefix) :])


def mask_phone(value: str) -> str:
    return re.sub(r"\d", "•", value)


def mask_email(value: str) -> str:
    domain = value.rsplit("@", 1)[-1]
    return "•••@•••." + (domain.rsplit(".", 1)[-1] if "." in domain else "•••")


def mask_key(value: str) -> str:
    match = _PREFIX.match(value)
    return (match.group(1) if match else "") + REDACTED


def mask_url(value: str) -> str:
    """Keep scheme, host and path; mask credentials, secret parameters and token-like segments."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    netloc = host + (f":{port}" if port else "")
    if parts.username or parts.password:
        netloc = "•••:•••@" + netloc
    token = re.compile(VALUE_RULES["random token"])
    path = "/".join(
        REDACTED if _PATH_TOKEN.match(segment) and not UUID.fullmatch(segment) else segment
        for segment in parts.path.split("/")
    )
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(
        quote(k, safe="") + "=" + ("•••" if _SECRET_PARAM.search(k) or token.search(v) else quote(v, safe=""))
        for k, v in pairs
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _redact_match(match: re.Match[str]) -> str:
    return REDACTED


@dataclass
class Pseudonyms:
    """Stable stand-ins per column: the first name seen is A, the next B, ..."""

    seen: dict[tuple[str, str], str] = field(default_factory=dict)

    def __call__(self, label: str, value: str) -> str:
        key = (label, value)
        if key not in self.seen:
            count = sum(1 for (other, _) in self.seen if other == label)
            letters = ""
            while True:
                count, digit = divmod(count, 26)
                letters = chr(ord("A") + digit) + letters
                if not count:
                    break
                count -= 1
            self.seen[key] = f"{label} {letters}"
        return self.seen[key]


def _name_label(column: str) -> str:
    words = [w for w in re.split(r"[_\W]+", column.lower()) if w and w != "name"]
    word = words[-1] if words else "name"
    return "Person" if word in ("full", "first", "last", "display", "user", "profile") else word.title()


@dataclass
class Masked:
    """A redacted cell: its text and the rules that changed it."""

    text: str | None
    rules: set[str] = field(default_factory=set)


class Redactor:
    def __init__(
        self,
        column_rules: Mapping[str, str] = COLUMN_RULES,
        value_rules: Mapping[str, str] = VALUE_RULES,
    ) -> None:
        self.column_rules = [(name, re.compile(p, re.I)) for name, p in column_rules.items()]
        self.value_rules = [(name, re.compile(p)) for name, p in value_rules.items()]

    @classmethod
    def configured(
        cls,
        extra_columns: Mapping[str, str],
        extra_values: Mapping[str, str],
        disabled: Iterable[str],
    ) -> Redactor:
        """Built-in rules less `disabled`, plus the user's own (which may replace a built-in)."""
        off = set(disabled)
        unknown = off - set(COLUMN_RULES) - set(VALUE_RULES)
        if unknown:
            known = ", ".join(sorted(set(COLUMN_RULES) | set(VALUE_RULES)))
            raise ValueError(f"unknown redaction rule(s) {', '.join(sorted(unknown))} (known: {known})")
        columns = {k: v for k, v in COLUMN_RULES.items() if k not in off} | dict(extra_columns)
        values = {k: v for k, v in VALUE_RULES.items() if k not in off} | dict(extra_values)
        for name, pattern in (columns | values).items():
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"redaction rule {name!r}: bad regular expression: {error}") from None
        return cls(columns, values)

    def column_rule(self, name: str) -> str | None:
        return next((rule for rule, pattern in self.column_rules if pattern.search(name)), None)

    def _by_column(self, rule: str, column: str, value: str, names: Pseudonyms) -> str:
        # Masks that keep part of the text (phone punctuation, a URL's host) still get
        # the value rules, so an email or a token beside the number is caught too.
        masks: dict[str, Callable[[str], str]] = {
            "external id": lambda v: v if UUID.fullmatch(v) else mask_shape(v),
            "email": lambda v: mask_email(v) if "@" in v else REDACTED,
            "phone": lambda v: self._by_value(mask_phone(v), set()),
            "url": lambda v: self._by_value(v, set()),
            "name": lambda v: names(_name_label(column), v),
        }
        return masks[rule](value) if rule in masks else REDACTED

    def _by_value(self, text: str, hits: set[str]) -> str:
        replacements: dict[str, Callable[[re.Match[str]], str]] = {
            "url with secrets": lambda m: mask_url(m.group()),
            "secret pair": lambda m: m.group(1) + m.group(2) + REDACTED,
            "http auth": lambda m: m.group(1) + " " + REDACTED,
            "api key": lambda m: mask_key(m.group()),
            "email address": lambda m: mask_email(m.group()),
            "phone number": lambda m: mask_phone(m.group()),
            "random token": lambda m: m.group() if UUID.fullmatch(m.group()) else REDACTED,  # ids stay
        }
        for rule, pattern in self.value_rules:
            replace = replacements.get(rule, _redact_match)

            def substitute(
                match: re.Match[str], rule: str = rule, replace: Callable[[re.Match[str]], str] = replace
            ) -> str:
                masked = replace(match)
                if masked != match.group():
                    hits.add(rule)
                return masked

            text = pattern.sub(substitute, text)
        return text

    def _walk(
        self, value: Any, key: str | None, parent: str | None, label: str, hits: set[str], names: Pseudonyms
    ) -> Any:
        rule = None
        if key is not None:
            rule = self.column_rule(key) or (self.column_rule(f"{parent}_{key}") if parent else None)
        if rule is not None and value is not None and not isinstance(value, bool):
            if isinstance(value, dict | list):
                if rule in SECRETS_WHOLE:
                    hits.add(f"{label} {rule}")
                    return REDACTED
            else:
                assert key is not None
                name = key if self.column_rule(key) else f"{parent}_{key}"
                masked = self._by_column(rule, name, str(value), names)
                if masked != str(value):
                    hits.add(f"{label} {rule}")
                    return masked
        if isinstance(value, dict):
            return {k: self._walk(v, k, key, "JSON key", hits, names) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, key, parent, label, hits, names) for v in value]
        if isinstance(value, str):
            return self._by_value(value, hits)
        return value

    def cell(self, column: str, type_name: str, text: str | None, names: Pseudonyms) -> Masked:
        """Redact one value, given as PostgreSQL prints it."""
        if text is None:
            return Masked(None)
        stripped = text.lstrip()
        if type_name in ("json", "jsonb") or stripped.startswith(("{", "[")):
            hits: set[str] = set()
            try:
                walked = self._walk(json.loads(text), column, None, "column", hits, names)
            except RecursionError:  # nested too deep to inspect: publish nothing of it
                return Masked(REDACTED, {"JSON too deep to inspect"})
            except ValueError:
                pass  # not JSON after all (an array or range literal): treat as text
            else:
                if not hits:
                    return Masked(text)
                # A masked top-level string is shown bare, like any other masked value.
                return Masked(
                    walked if isinstance(walked, str) else json.dumps(walked, ensure_ascii=False), hits
                )
        rule = self.column_rule(column)
        if rule is not None:
            masked = self._by_column(rule, column, text, names)
            if masked != text:
                return Masked(masked, {f"column {rule}"})
        hits = set()
        masked = self._by_value(text, hits)
        return Masked(masked, hits)


@dataclass(frozen=True)
class Cell:
    text: str | None  # None: SQL NULL
    rules: tuple[str, ...] = ()  # the redaction rules that changed it
    truncated: int = 0  # characters cut off


@dataclass(frozen=True)
class Sample:
    """Rows safe to publish: redacted, then truncated."""

    columns: tuple[str, ...]
    hidden: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str | None
    order: tuple[str, ...]  # the columns rows are ordered by; empty: all, as text
    limit: int

    @property
    def masked(self) -> list[tuple[str, str]]:
        """(column, rule) for every rule that changed a value, sorted."""
        return sorted(
            {
                (column, rule)
                for row in self.rows
                for column, cell in zip(self.columns, row, strict=True)
                for rule in cell.rules
            }
        )

    def first(self, limit: int) -> Sample:
        return dataclasses.replace(self, rows=self.rows[:limit], limit=limit)


def redact_sample(
    raw: RawSample, table: Table, limit: int, redactor: Redactor | None, max_length: int
) -> Sample:
    """Redact, then truncate; with no redactor values pass unchanged."""
    types = {c.name: c.type for c in table.columns}
    names = Pseudonyms()
    rows = []
    for raw_row in raw.rows:
        cells = []
        for column, value in zip(raw.columns, raw_row, strict=True):
            result = Masked(value) if redactor is None else redactor.cell(column, types[column], value, names)
            text = result.text
            cut = 0
            if text is not None and len(text) > max_length:
                cut = len(text) - max_length
                text = text[:max_length]
            cells.append(Cell(text, tuple(sorted(result.rules)), cut))
        rows.append(tuple(cells))
    primary = table.primary_key
    order = tuple(primary.columns) if primary is not None and set(primary.columns) <= set(raw.columns) else ()
    return Sample(raw.columns, raw.hidden, tuple(rows), raw.note, order, limit)
