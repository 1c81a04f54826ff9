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

# Column (and JSON key) names, checked in order: the first match decides.
COLUMN_RULES: dict[str, str] = {
    "external id": (
        r"(^|_)(external|motopress|airbnb|whatsapp|wamid|waba|mphb|meta|ical|ics|stripe"
        r"|phone_number|message|template|listing|post)_?(id|uid|ref)$|^external_|(^|_)uid$|^wamid$"
    ),
    "secret": r"secret|passw|pwd|hash|salt|private_?key|signing|encrypt",
    "token": (r"token|api_?key|apikey|access_?key|auth(?!ors?$|or_)|credential|bearer|session|cookie|verify"),
    "email": r"e_?mail",
    "phone": r"phone|msisdn|mobile|wa_?id",
    "url": r"(feed|webhook|ical|ics|callback|calendar|endpoint|redirect)_?(url|uri|link)",
    "name": (
        r"(^|_)(account|display|business|full|first|last|guest|contact|customer|owner|sender"
        r"|recipient|profile|user)_?name$"
    ),
}

# Patterns inside any text, applied in order.
VALUE_RULES: dict[str, str] = {
    "url": r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+",
    "jwt": r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}",
    "bearer": r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}",
    "api key": (
        r"\b(?:(?:sk|pk|rk)_(?:live|test)_|whsec_|(?:ck|cs)_|xox[abpr]-|gh[pousr]_|AKIA|EAA[A-Za-z]{0,3})"
        r"[A-Za-z0-9+/=_-]{8,}"
    ),
    "email": r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+\b",
    "phone": r"(?<![\w+])\+\d[\d \-().]{6,18}\d\b",
    "token": r"\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b",
}

_SECRET_PARAM = re.compile(
    r"(?i)token|key|secret|sig|signature|auth|pass|code|session|jwt|access|^[stk]$|^hash$"
)
_PREFIX = re.compile(r"^((?:sk|pk|rk)_(?:live|test)_|whsec_|ck_|cs_|xox[abpr]-|gh[pousr]_|AKIA|EAA)")


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
    token = re.compile(VALUE_RULES["token"])
    path = "/".join(token.sub(REDACTED, segment) for segment in parts.path.split("/"))
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(
        quote(k, safe="") + "=" + ("•••" if _SECRET_PARAM.search(k) or token.search(v) else quote(v, safe=""))
        for k, v in pairs
    )
    return urlunsplit((parts.scheme, netloc, path, query, ""))


def _redact_all(value: str) -> str:
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
        masks: dict[str, Callable[[str], str]] = {
            "external id": lambda v: v if UUID.fullmatch(v) else mask_shape(v),
            "email": lambda v: mask_email(v) if "@" in v else REDACTED,
            "phone": mask_phone,
            "url": lambda v: self._by_value(v, set()),
            "name": lambda v: names(_name_label(column), v),
        }
        return masks[rule](value) if rule in masks else REDACTED

    def _by_value(self, text: str, hits: set[str]) -> str:
        replacements: dict[str, Callable[[str], str]] = {
            "url": mask_url,
            "bearer": lambda m: "Bearer " + REDACTED,
            "api key": mask_key,
            "email": mask_email,
            "phone": mask_phone,
            "token": lambda v: v if UUID.fullmatch(v) else REDACTED,  # internal ids stay
        }
        for rule, pattern in self.value_rules:
            replace = replacements.get(rule, _redact_all)

            def substitute(
                match: re.Match[str], rule: str = rule, replace: Callable[[str], str] = replace
            ) -> str:
                masked = replace(match.group())
                if masked != match.group():
                    hits.add(rule)
                return masked

            text = pattern.sub(substitute, text)
        return text

    def _walk(self, value: Any, key: str | None, hits: set[str], names: Pseudonyms) -> Any:
        if key is not None:
            rule = self.column_rule(key)
            if rule is not None and value is not None and not isinstance(value, (dict, list, bool)):
                masked = self._by_column(rule, key, str(value), names)
                if masked != str(value):
                    hits.add(f"JSON key {rule}")
                    return masked
        if isinstance(value, dict):
            return {k: self._walk(v, k, hits, names) for k, v in value.items()}
        if isinstance(value, list):
            return [self._walk(v, key, hits, names) for v in value]
        if isinstance(value, str):
            return self._by_value(value, hits)
        return value

    def cell(self, column: str, type_name: str, text: str | None, names: Pseudonyms) -> Masked:
        """Redact one value, given as PostgreSQL prints it."""
        if text is None:
            return Masked(None)
        rule = self.column_rule(column)
        if type_name in ("json", "jsonb"):
            if rule is not None and rule not in ("url", "name", "external id"):
                return Masked(REDACTED, {f"column {rule}"})
            try:
                document = json.loads(text)
            except ValueError:
                document = text
            hits: set[str] = set()
            walked = self._walk(document, None, hits, names)
            return Masked(json.dumps(walked, ensure_ascii=False) if hits else text, hits)
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
