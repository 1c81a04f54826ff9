"""Redaction of sample values, before any of them reaches Markdown, HTML or a log.

Two kinds of rules, both configurable by name:

- column rules match a column name (or a JSON key at any depth) and mask the
  whole value in a way that fits the rule: external ids keep their shape, names
  become "Account A", phone digits become bullets, secrets become [REDACTED];
- value rules match text inside any value (JWTs, bearer tokens, prefixed API
  keys, private key blocks, passwords in config files, SQL and command lines, emails,
  phone numbers, card numbers, URLs with credentials or token parameters, long random
  tokens) and mask only the match, so an error message stays readable. They also run
  on JSON object keys and numbers and, inside a URL, on each decoded path segment and
  query value before it is encoded again.

Internal UUIDs are kept: foreign keys need them to make sense. A masked number keeps
none of its digits.

`mask_unambiguous` is the narrow variant for schema text (view definitions, comments...):
it masks only what cannot be anything but a secret and leaves the rest byte for byte.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import re
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit, urlunsplit

from ..catalog.model import Catalog, Table
from ..catalog.samples import RawSample

REDACTED = "[REDACTED]"
WHOLE_LIMIT = 2_000  # characters of a long sample value a reader can unfold
# A URL inside a URL (a `next=` or `redirect=` parameter) is masked part by part down to this
# many levels; one nested deeper is hidden whole, so no input makes redaction recurse or slow.
MAX_URL_DEPTH = 3
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Column (and JSON key) names, checked in order: the first match decides. A name is tried
# as written and in snake case (`twoStepPin` as `two_step_pin`); a JSON key is also tried
# joined to its parent key (`profile` → `name` reads as `profile_name`).
COLUMN_RULES: dict[str, str] = {
    "external id": (
        r"(^|[_-])(external|motopress|airbnb|whatsapp|wamid|waba|mphb|meta|ical|ics|stripe"
        r"|phone[_-]number|message|template|listing|post)[_-]?(id|uid|ref)$|^external[_-]|(^|[_-])uid$|^wamid$"
    ),
    "secret": (
        r"secret|passw|passphrase|passcode|pwd|hash|salt|private[_-]?key|(^|[_-])private$|signing|encrypt"
        r"|(^|[_-])(pass|pin|pin[_-]?code|otp|totp|sig|signature)([_-]?\d+)?$"
    ),
    # `token_type`, `token_expires_at`, `secret_version` describe a secret without holding it.
    "token": (
        r"token(?![_-]?(?:type|kind|scopes?|status|count|expires?(?:[_-]at)?|expiry|expiration|version)$)"
        r"|api[_-]?key|apikey|access[_-]?key|auth(?!ors?$|or[_-])|credential|bearer|session|cookie|verify"
    ),
    # `credit_card_type`, `card_id`, `pan_last4` describe a card without holding its number.
    "card": (
        r"(?:credit|debit|payment|bank)[_-]?cards?(?![_-]?(?:ids?|type|brand|kind|network|scheme|exp\w*"
        r"|month|year|holder\w*|name|country|status|count|last[_-]?4|bin|iin)$)"
        r"|card[_-]?(?:numbers?|nums?|nos?|nr|pan)(?![a-z])|(?:^|[_-])cc[_-]?(?:numbers?|nums?|nos?|nr)(?![a-z])"
        r"|(?:^|[_-])pan(?:[_-]?(?:numbers?|nums?|nos?))?$|primary[_-]?account[_-]?numbers?"
    ),
    "bare key": r"^key$",
    "email": r"e[_-]?mail",
    "phone": r"phone|msisdn|mobile|wa[_-]?id|^(from|to|recipient[_-]id)$",
    "url": r"(feed|webhook|ical|ics|callback|calendar|endpoint|redirect)[_-]?(url|uri|link)",
    "name": (
        r"(^|[_-])(account|display|business|full|first|last|guest|contact|customer|owner|sender"
        r"|recipient|profile|user|verified)[_-]?name$"
    ),
}
_NO_SECRET_TYPE = re.compile(r"boolean$|date$|time(stamp)?\b|interval\b")
# Printed by PostgreSQL as digits, hex and separators: no value rule finds anything in these
# (a test holds them to it), and they are a third of a typical table's cells. Column rules still
# apply to a UUID: a `reset_token uuid` is a secret.
_NO_VALUE_RULES_TYPE = re.compile(r"uuid$|" + _NO_SECRET_TYPE.pattern)
SECRETS_WHOLE = ("secret", "token", "bare key")  # a JSON object or array under these keys is hidden whole
_SECRET_ELEMENTS = (*SECRETS_WHOLE, "card")  # an XML element named by these (or a user's) is masked

# The key of a `key=value` / `key: value` pair that holds a secret. Long names may carry any
# prefix (`PGPASSWORD`, `client_secret`, `X-Api-Key`), short ones (`pass`, `pin`, `sig`) only a
# prefix ending in `_` or `-`: `compass`, `bypass`, `passenger`, `design` or `monkey` are no keys.
_PAIR_NAME = (
    r"(?<![\w-])(?:(?:[\w-]*(?:password|passwd|passphrase|secret|token)"
    r"|(?:[\w-]*[_-])?(?:pass|pwd|pin|otp|sig|signature|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|secret[_-]?key|signing[_-]?key))"
    r"(?:[_-](?:hash|digest|hex|b64|base64|\d+))?|key)"
)
# Its value: a quoted string whole (spaces, doubled `''` and escaped `\'` quotes and all), a
# quote never closed up to the end of its line, or else the next bare word.
_PAIR_VALUE = (
    r"(?!\\?[\"']?(?:\[REDACTED|•••|-----BEGIN))"
    r"(?:\"(?P<dq>(?:[^\"\\\n]|\\.|\"\")*)\"|\\\"(?P<edq>(?:(?!\\\").)*)\\\""
    r"|'(?P<sq>(?:[^'\\\n]|\\.|'')*)'|\\?[\"'](?P<open>[^\n]*)"
    r"|(?P<bare>(?:[^\s\"'\\,;&}\]]|\\(?![\"']))+))"
)

# A command that takes `-pSECRET` (mysql, mysqldump, mariadb-dump...) or a `-u user` before it:
# only there is `-p` glued to a word a password, not a port (`psql -p5432`). `-uroot` is left
# to the command name: `find -user root -perm 644` has no password.
_PASSWORD_OPTION_CONTEXT = (
    r"(?:(?<![\w.-])(?i:mysql|mariadb)[\w-]*|(?<!\S)(?:-u[ \t]+|--user[= \t][ \t]*)[^\s-]\S*)"
)

# Patterns inside any text, applied in order; named apart from the column rules so that
# `disable` drops exactly one of them.
VALUE_RULES: dict[str, str] = {
    "private key block": (
        r"(?s)-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----.*?(?:-----END \1-----|\Z)"
    ),
    "url with secrets": r"\b[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^\s\"'<>]+",
    # An INI or TOML section (`[client]`): a secret key's value runs to the end of its line.
    "ini secret": r"(?m)^[ \t]*\[[^\[\]\n]{1,200}\][ \t]*$(?P<section>(?:\n(?![ \t]*\[)[^\n]*)*)",
    # YAML `password:` with its value (or a `|` block) on the more indented lines below.
    "yaml secret": (
        r"(?im)^(?P<key>(?P<indent>[ \t]*+)(?:-[ \t]+)?[\"']?"
        + _PAIR_NAME
        + r"[\"']?[ \t]*:)[ \t]*(?:[!&][^\s#]*[ \t]*)*(?:[|>][1-9+-]{0,2}[ \t]*)?(?:#[^\n]*)?\n"
        r"(?P<block>(?:[ \t]*\n)*(?P=indent)[ \t]+\S[^\n]*(?:\n(?:[ \t]*\n)*(?P=indent)[ \t]+\S[^\n]*)*)"
    ),
    "secret pair": r"(?i)(?P<name>"
    + _PAIR_NAME
    + r")(?P<sep>\\?[\"']?[ \t]*(?:=>|[=:])[ \t]*)"
    + _PAIR_VALUE,
    # `CREATE ROLE u PASSWORD 'x'`, `ALTER USER u WITH ENCRYPTED PASSWORD 'md5...'`, `IDENTIFIED BY 'x'`.
    "sql password": (
        r"(?i)\b(?:PASSWORD|IDENTIFIED[ \t]+BY)\s+E?(?!'\[REDACTED)"
        r"(?:'(?P<sq>(?:[^'\\\n]|\\.|'')*)'|'(?P<open>[^\n]*))"
    ),
    # `mysql -u root -pSECRET`, `--password SECRET` (`--password=SECRET` is a secret pair).
    "password option": (
        r"(?:" + _PASSWORD_OPTION_CONTEXT + r"(?:[ \t]+\S+){0,20}?[ \t]+-p"
        r"|(?<![\w-])--(?!no-)[\w-]*(?:password|passwd|secret|token|api-key)[ \t]+(?!-))"
        r"(?!\[REDACTED\])(?:'(?P<sq>[^'\n]*)'|\"(?P<dq>[^\"\n]*)\"|(?P<bare>[^\s'\"]\S*))"
    ),
    # `<password>x</password>`, `<apiKey>`, `<ns:secret>`: any element the column rules call a secret.
    "xml secret": (
        r"<(?P<tag>[A-Za-z_][\w.:-]{0,100})(?P<attributes>\s[^<>]*)?>"
        r"(?P<body>[^<]*(?:<!\[CDATA\[(?:[^\]]|\](?!\]>))*(?:\]\]>|\Z)[^<]*)*)"
    ),
    "jwt": r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
    "http auth": r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}",
    "api key": (
        r"\b(?:(?:sk|pk|rk)_(?:live|test)_|whsec_|(?:ck|cs)_|xox[abprs]-|gh[pousr]_|github_pat_|glpat-"
        r"|AKIA|ASIA|EAA[A-Za-z]{0,3})[A-Za-z0-9+/=_-]{8,}"
    ),
    "email address": r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)+",
    # A run of digit groups split by single spaces or dashes; see card_spans for what in it
    # is a card number (13 to 19 digits passing the Luhn check).
    "card number": r"(?<![\w.])\d+(?:[ -]\d+)*",
    # International (+ or 00), a parenthesised area code (after a country code or not), or
    # three or more groups of digits split by one kind of separator; without a + it takes 9
    # to 15 digits and no date (see phone_like): `2026-11-30`, times, UUIDs, IP addresses,
    # versions, prices stay.
    "phone number": (
        r"(?<![\w+])\+\d[\d \-().]{6,18}\d\b"
        r"|(?<![\w+./-])(?<!\d:)(?:00[1-9]\d{0,3}(?:[ .-]\(?\d{1,4}\)?){2,6}"
        r"|(?:\d{1,3}[ .-]?)?\(\d{2,5}\)[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){1,3}"
        r"|\d{1,4}(?P<sep>[ -])\d{2,4}(?:(?P=sep)\d{2,4}){1,4}"
        r"|(?:\d{1,3}\.)?\d{3}\.\d{3}\.\d{4})(?!\w|[.,:/-]\d)"
    ),
    # 32 or more letters and digits mixed; one holding `/` or `+` (base64) only when it
    # does not read like a path (see mask_token).
    "random token": (
        r"(?<![A-Za-z0-9_+/-])(?=[A-Za-z0-9_+/-]*\d)(?=[A-Za-z0-9_+/-]*[A-Za-z])"
        r"[A-Za-z0-9_+/-]{32,}={0,2}(?![A-Za-z0-9_+/=-])"
    ),
}

_SECRET_PARAM = re.compile(
    r"(?i)token|key|secret|sig|signature|auth|pass|pwd|^pw$|code|session|jwt|access|^[stk]$|^hash$|^pin$|^otp$"
)
_TOKEN = re.compile(VALUE_RULES["random token"])
# A URL path segment right after one of these is a secret unless it is a plain word.
_PATH_KEYWORDS = frozenset(
    {
        "reset",
        "reset-password",
        "password-reset",
        "password",
        "verify",
        "verification",
        "verify-email",
        "token",
        "tokens",
        "invite",
        "invites",
        "invitation",
        "invitations",
        "confirm",
        "confirmation",
        "activate",
        "activation",
        "unsubscribe",
        "magic",
        "magic-link",
        "login",
        "signin",
        "sign-in",
        "share",
        "shared",
        "key",
        "keys",
        "secret",
        "secrets",
        "webhook",
        "webhooks",
    }
)
_PLAIN_SEGMENT = re.compile(r"(?:[a-z]+|\d{1,4})(?:[-_.](?:[a-z]+|\d{1,4}))*")
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,4}$")
_PREFIX = re.compile(
    r"^((?:sk|pk|rk)_(?:live|test)_|whsec_|ck_|cs_|xox[abprs]-|gh[pousr]_|github_pat_|glpat-|AKIA|ASIA|EAA)"
)


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)


def _char_class(char: str) -> str:
    return "l" if char.islower() else "u" if char.isupper() else "d" if char.isdigit() else ""


def reads_like_words(text: str) -> bool:
    """Mostly runs of lower-case words, with few changes of case or between letters and
    digits: a path or a name (`wp-json/mphb/v1/bookings`, `getBookingDetailsById`), not
    random data, where such changes come every other character."""
    classes = [_char_class(c) for c in text]
    pairs = [(a, b) for a, b in itertools.pairwise(classes) if a and b]
    changes = sum(1 for a, b in pairs if a != b)
    worded = sum(len(run) for run in re.findall(r"[a-z]{4,}", text))
    return worded >= 0.3 * len(text) and changes < 0.3 * max(len(pairs), 1)


def _mixed(text: str) -> bool:
    return bool(re.search(r"\d", text) and re.search(r"[A-Za-z]", text))


def path_token(segment: str, previous: str = "") -> bool:
    """Whether a decoded URL path segment is a secret: after `reset/`, `verify/`, `invite/`,
    `token/`... anything of 6+ characters but a plain word; elsewhere a run of 8+
    characters mixing letters and digits (`HMFAKE0002`), or 16+ characters of random-looking
    text. `v1`, `2026`, `wp-json`, `accommodation_types`, `34567890.ics` and UUIDs stay."""
    stem = _EXTENSION.sub("", segment)
    if previous.lower() in _PATH_KEYWORDS:
        return len(stem) >= 6 and not _PLAIN_SEGMENT.fullmatch(stem)
    if UUID.fullmatch(stem) or not re.fullmatch(r"[A-Za-z0-9_~-]+", stem):
        return False
    if any(len(part) >= 8 and _mixed(part) for part in re.split(r"[-_~]", stem)):
        return True
    return len(stem) >= 16 and _mixed(stem) and not reads_like_words(stem)


def phone_like(text: str) -> bool:
    """Whether a match of the phone rule is a phone number: with a leading + always; else
    9 to 15 digits (17 after `00`), not opening with a date, and groups of two digits only
    in the national form that starts with 0 (`06 12 34 56 78`)."""
    if text.startswith("+"):
        return True
    if re.match(r"(?:19|20)\d\d[ ./-]\d{1,2}[ ./-]\d{1,2}(?!\d)", text):
        return False
    groups = re.findall(r"\d+", text)
    if all(len(group) <= 2 for group in groups) and not text.startswith("0"):
        return False
    return 9 <= sum(len(group) for group in groups) <= (17 if text.startswith("00") else 15)


def mask_token(text: str) -> str:
    """A random token becomes [REDACTED]; a UUID stays; a run holding `/` or `+` that reads
    like a path keeps its words and UUIDs and loses only its long random parts."""
    if UUID.fullmatch(text):
        return text
    if not re.search(r"[/+]", text) or not reads_like_words(UUID.sub("", text)):
        return REDACTED
    return re.sub(
        r"[A-Za-z0-9_-]{32,}",
        lambda m: REDACTED if _mixed(m.group()) and not UUID.fullmatch(m.group()) else m.group(),
        text,
    )


def _has_token(text: str) -> bool:
    return any(mask_token(m.group()) != m.group() for m in _TOKEN.finditer(text))


def mask_shape(value: str) -> str:
    """Keep a leading prefix (`wamid.`, `MOTO_`) and punctuation; letters and digits become x."""
    match = re.match(r"^([A-Za-z]+[._:-])", value)
    prefix = match.group(1) if match else ""
    return prefix + re.sub(r"[A-Za-z0-9]", "x", value[len(prefix) :])


def mask_phone(value: str) -> str:
    return re.sub(r"\d", "•", value)


def luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """13 to 19 digits passing the Luhn check; one digit repeated is a placeholder, no card."""
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_valid(digits)


_DIGITS = re.compile(r"\d+")
_CARD_RUN = re.compile(VALUE_RULES["card number"])


def _card_end(run: str, groups: list[tuple[int, int]], first: int) -> int | None:
    """The last group of the longest card number that starts at group `first`: one group of
    13 to 19 digits, or groups of 3 to 6 digits opening with one of 4 to 6 and perhaps closing
    with a shorter one (`4018 1852 9630 7417`, `3782 822463 10005`, `4222 2222 2222 2`), so
    dates, prices and lists of small numbers are none."""
    start, end = groups[first]
    if 13 <= end - start <= 19:
        return first if is_card_number(run[start:end]) else None
    if not 4 <= end - start <= 6:
        return None
    digits, best = "", None
    for last in range(first, len(groups)):
        start, end = groups[last]
        if end - start > 6 or len(digits) + end - start > 19:
            break
        digits += run[start:end]
        if is_card_number(digits):
            best = last
        if end - start < 3:  # only the last group may be that short
            break
    return best


def card_spans(run: str, glued: bool = False) -> Iterator[tuple[int, int]]:
    """Where card numbers are in a run of digit groups split by single spaces or dashes;
    `glued`: its last group runs on into a word or a decimal fraction, so it is no number."""
    groups = [m.span() for m in _DIGITS.finditer(run)]
    if glued:
        groups.pop()
    first = 0
    while first < len(groups):
        last = _card_end(run, groups, first)
        if last is None:
            first += 1
        else:
            yield groups[first][0], groups[last][1]
            first = last + 1


def mask_card_run(match: re.Match[str], issuers: str = "0123456789") -> str:
    """A match of the card number rule with every card number in it (opening with one of
    `issuers`) as bullets."""
    run, after = match.group(), match.string[match.end() : match.end() + 2]
    glued = bool(re.match(r"\w|\.\d", after))
    masked = list(run)
    for start, end in card_spans(run, glued):
        if run[start] in issuers:
            masked[start:end] = mask_phone(run[start:end])
    return "".join(masked)


def mask_issued_card_run(match: re.Match[str]) -> str:
    """Schema text holds timestamps in milliseconds and microseconds that pass the Luhn
    check (a partition bound of 1738368000000): there, only numbers opening like the
    major card networks' (2 to 6) are cards."""
    return mask_card_run(match, "23456")


def mask_card(value: str) -> str:
    """A value under a card number's name, whole: digits as bullets, or [REDACTED] when it
    holds letters too."""
    return mask_phone(value) if not re.search(r"[^\W\d_]", value) else REDACTED


def mask_email(value: str) -> str:
    domain = value.rsplit("@", 1)[-1]
    return "•••@•••." + (domain.rsplit(".", 1)[-1] if "." in domain else "•••")


def mask_key(value: str) -> str:
    match = _PREFIX.match(value)
    return (match.group(1) if match else "") + REDACTED


def mask_pair(match: re.Match[str]) -> str:
    """Keep the key, the separator and the quotes of a secret pair; mask the value whole."""
    groups = [g for g in ("dq", "edq", "sq", "open", "bare") if g in match.re.groupindex]
    if not groups:  # a user's own pattern: hide all it matched
        return REDACTED
    for group in groups:
        if match.group(group):
            start, end = (i - match.start() for i in match.span(group))
            return match.group()[:start] + REDACTED + match.group()[end:]
    return match.group()  # an empty value: nothing to hide


_INI_SECRET_LINE = re.compile(
    r"(?im)^(?P<head>[ \t]*" + _PAIR_NAME + r"[ \t]*[=:][ \t]*)(?P<value>[^\n]*?)(?P<tail>[ \t]*)$"
)


def _mask_line_value(line: re.Match[str]) -> str:
    value = line["value"]
    if not value or value.startswith((REDACTED, "•••")):
        return line.group()
    quoted = re.fullmatch(r"([\"']).*\1", value)
    shown = quoted.group(1) + REDACTED + quoted.group(1) if quoted else REDACTED
    return line["head"] + shown + line["tail"]


def mask_ini_section(match: re.Match[str]) -> str:
    """An INI section with the value of every secret key masked to the end of its line."""
    if "section" not in match.re.groupindex:  # a user's own pattern
        return REDACTED
    start = match.start("section") - match.start()
    return match.group()[:start] + _INI_SECRET_LINE.sub(_mask_line_value, match["section"])


def mask_yaml_block(match: re.Match[str]) -> str:
    """A YAML secret key whose value is on the lines below: the key kept, the value (with
    its `|` or `>` block style) masked on the next line."""
    if not {"key", "block"} <= set(match.re.groupindex):
        return REDACTED
    if match["block"].strip() == REDACTED:
        return match.group()
    indent = re.match(r"(?:[ \t]*\n)*([ \t]*)", match["block"])
    return f"{match['key']}\n{indent.group(1) if indent else ''}{REDACTED}"


def mask_pem(match: re.Match[str]) -> str:
    label = match.group(1) if match.re.groups else "PRIVATE KEY"
    return f"-----BEGIN {label}-----{REDACTED}-----END {label}-----"


def _quote(text: str, safe: str) -> str:
    """Percent-encode, keeping the masks readable."""
    return quote(text, safe=safe).replace(quote("•"), "•").replace(quote(REDACTED, safe=""), REDACTED)


def mask_url(value: str, redact: Callable[[str | None, str], str] | None = None) -> str:
    """Keep scheme, host and path; mask credentials, secret parameters and token-like path
    segments. `redact(key, text)` masks what else a decoded query value (under `key`) or path
    segment (key None) holds; masked parts are encoded again, the others kept as written."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return REDACTED
    netloc = (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
    if parts.username or parts.password:
        netloc = "•••:•••@" + netloc
    segments, previous = [], ""
    for segment in parts.path.split("/"):
        decoded = unquote(segment)
        if path_token(decoded, previous):
            extension = _EXTENSION.search(decoded)
            segments.append(REDACTED + (extension.group() if extension else ""))
        elif redact is not None and (masked := redact(None, decoded)) != decoded:
            segments.append(_quote(masked, "@:,;=!$&'()*+~"))
        else:
            segments.append(segment)
        previous = decoded
    pairs = []
    for pair in parts.query.split("&") if parts.query else []:
        raw_key, equals, raw_text = pair.partition("=")
        key, text = unquote_plus(raw_key), unquote_plus(raw_text)
        masked_key = key if redact is None else redact(None, key)
        shown_key = raw_key if masked_key == key else _quote(masked_key, "@:,")
        if text and (_SECRET_PARAM.search(key) or _has_token(text)):
            shown = "•••"
        else:
            masked = text if redact is None else redact(key, text)
            shown = raw_text if masked == text else _quote(masked, "@:/,")
        pairs.append(shown_key + equals + shown)
    return urlunsplit((parts.scheme, netloc, "/".join(segments), "&".join(pairs), ""))


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
    words = [w for w in re.split(r"[_\W]+", snake_case(column).lower()) if w and w != "name"]
    word = words[-1] if words else "name"
    if word == "verified":  # the business name Meta verified
        return "Business"
    if word == "display":  # a person's or an account's: say neither
        return "Name"
    return "Person" if word in ("full", "first", "last", "user", "profile") else word.title()


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
        self._rule_of: dict[str, str | None] = {}  # column and key names repeat on every row

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
        if name not in self._rule_of:
            spellings = (name, snake_case(name))
            self._rule_of[name] = next(
                (rule for rule, pattern in self.column_rules if any(map(pattern.search, spellings))),
                None,
            )
        return self._rule_of[name]

    def text(self, value: str) -> str:
        """Free text (an error message, say) with the value rules applied."""
        try:
            return self._by_value(value, set(), Pseudonyms())
        except RecursionError:  # too complex to inspect: publish nothing of it
            return REDACTED

    def _by_column(self, rule: str, column: str, value: str, names: Pseudonyms, depth: int = 0) -> str:
        # Masks that keep part of the text (phone punctuation, a URL's host) still get
        # the value rules, so an email or a token beside the number is caught too.
        masks: dict[str, Callable[[str], str]] = {
            "external id": lambda v: v if UUID.fullmatch(v) else mask_shape(v),
            "email": lambda v: mask_email(v) if "@" in v else REDACTED,
            "phone": lambda v: self._by_value(mask_phone(v), set(), names, depth),
            "url": lambda v: self._by_value(v, set(), names, depth),
            "name": lambda v: names(_name_label(column), v),
            "card": mask_card,
        }
        return masks[rule](value) if rule in masks else REDACTED

    def _url_part(self, key: str | None, text: str, hits: set[str], names: Pseudonyms, depth: int) -> str:
        """A decoded URL query value under `key`, or path segment (key None), masked: by the
        column rule its key names, else by the value rules. `depth` counts the URLs it is in."""
        rule = None if key is None else self.column_rule(key)
        if rule is not None and key is not None:
            masked = self._by_column(rule, key, text, names, depth)
            if masked != text:
                hits.add(f"URL parameter {rule}")
                return masked
        return self._by_value(text, hits, names, depth)

    def _mask_url(self, value: str, hits: set[str], names: Pseudonyms, depth: int) -> str:
        if depth >= MAX_URL_DEPTH:  # a URL in a URL in a URL...: hide it whole
            return REDACTED
        return mask_url(value, lambda key, part: self._url_part(key, part, hits, names, depth + 1))

    def _mask_element(self, match: re.Match[str]) -> str:
        """An XML element named like a secret (`<password>`, `<ns:apiKey>`) with its text masked."""
        if "body" not in match.re.groupindex:
            return REDACTED
        if (match["attributes"] or "").endswith("/") or match["body"].strip() in ("", REDACTED):
            return match.group()  # `<password/>`: no text of its own
        rule = self.column_rule(match["tag"].rsplit(":", 1)[-1])
        if rule is None or (rule in COLUMN_RULES and rule not in _SECRET_ELEMENTS):
            return match.group()  # a user's own column rule hides its value whole: so here
        return match.group()[: match.start("body") - match.start()] + REDACTED

    def _by_value(self, text: str, hits: set[str], names: Pseudonyms, depth: int = 0) -> str:
        for rule, pattern in self.value_rules:
            if pattern.search(text) is None:  # most values match no rule: nothing to build
                continue
            replace = self._replacement(rule, hits, names, depth)

            def substitute(
                match: re.Match[str], rule: str = rule, replace: Callable[[re.Match[str]], str] = replace
            ) -> str:
                masked = replace(match)
                if masked != match.group():
                    hits.add(rule)
                return masked

            text = pattern.sub(substitute, text)
        return text

    def _replacement(
        self, rule: str, hits: set[str], names: Pseudonyms, depth: int
    ) -> Callable[[re.Match[str]], str]:
        """What a match of value rule `rule` becomes."""
        match rule:
            case "private key block":
                return mask_pem
            case "url with secrets":
                return lambda m: self._mask_url(m.group(), hits, names, depth)
            case "ini secret":
                return mask_ini_section
            case "yaml secret":
                return mask_yaml_block
            case "secret pair" | "sql password" | "password option":
                return mask_pair
            case "xml secret":
                return self._mask_element
            case "http auth":
                return lambda m: m.group(1) + " " + REDACTED
            case "api key":
                return lambda m: mask_key(m.group())
            case "email address":
                return lambda m: mask_email(m.group())
            case "card number":
                return mask_card_run
            case "phone number":
                return lambda m: mask_phone(m.group()) if phone_like(m.group()) else m.group()
            case "random token":
                return lambda m: mask_token(m.group())  # ids stay
        return _redact_match

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
            result: dict[str, Any] = {}
            for k, v in value.items():
                # Keys are text too: an email or a phone number used as a key is masked,
                # and is then data, not a name for the column rules to read.
                key_hits: set[str] = set()
                shown = unique = self._by_value(k, key_hits, names)
                hits.update(f"{rule} in a JSON key" for rule in key_hits)
                walked = self._walk(v, shown, key, "JSON key", hits, names)
                count = 1
                while unique in result:  # two keys masked alike stay apart
                    count += 1
                    unique = f"{shown} ({count})"
                result[unique] = walked
            return result
        if isinstance(value, list):
            return [self._walk(v, key, parent, label, hits, names) for v in value]
        if isinstance(value, str):
            return self._by_value(value, hits, names)
        # A card number stored as a number; shorter or longer ones cannot be one.
        if isinstance(value, int) and not isinstance(value, bool) and 10**12 <= abs(value) < 10**19:
            masked = self._by_value(str(value), hits, names)
            return value if masked == str(value) else masked
        return value

    def cell(self, column: str, type_name: str, text: str | None, names: Pseudonyms) -> Masked:
        """Redact one value, given as PostgreSQL prints it; one too complex to inspect is
        hidden whole, never published as it is."""
        try:
            return self._cell(column, type_name, text, names)
        except RecursionError:
            return Masked(REDACTED, {"value too complex to inspect"})

    def _cell(self, column: str, type_name: str, text: str | None, names: Pseudonyms) -> Masked:
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
        # A boolean or a point in time holds no secret: `has_password`, `password_changed_at`.
        rule = None if _NO_SECRET_TYPE.match(type_name) else self.column_rule(column)
        if rule is not None:
            masked = self._by_column(rule, column, text, names)
            if masked != text:
                return Masked(masked, {f"column {rule}"})
        if _NO_VALUE_RULES_TYPE.match(type_name):
            return Masked(text)
        hits = set()
        masked = self._by_value(text, hits, names)
        return Masked(masked, hits)


@dataclass(frozen=True)
class Cell:
    text: str | None  # None: SQL NULL
    rules: tuple[str, ...] = ()  # the redaction rules that changed it
    truncated: int = 0  # characters cut off
    whole: str | None = None  # the whole (redacted) value of a cut one, up to WHOLE_LIMIT


@dataclass(frozen=True)
class Sample:
    """Rows safe to publish: redacted, then truncated."""

    columns: tuple[str, ...]
    hidden: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str | None
    order: tuple[str, ...] | None  # the columns rows are ordered by; (): all, as text; None: storage
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
    """Redact, then truncate; with no redactor values (and the note) pass unchanged."""
    types = {c.name: c.type for c in table.columns}
    names = Pseudonyms()
    rows = []
    for raw_row in raw.rows:
        cells = []
        for column, value in zip(raw.columns, raw_row, strict=True):
            result = Masked(value) if redactor is None else redactor.cell(column, types[column], value, names)
            text = result.text
            cut, whole = 0, None
            if text is not None and len(text) > max_length:
                cut = len(text) - max_length
                # Shown on demand; past WHOLE_LIMIT a value is noise on a page.
                whole = text if len(text) <= WHOLE_LIMIT else None
                text = text[:max_length]
            cells.append(Cell(text, tuple(sorted(result.rules)), cut, whole))
        rows.append(tuple(cells))
    # A read error may quote the data (a function raising 'bad row for guest %'): it gets
    # the value rules like any cell.
    note = raw.note if redactor is None or raw.note is None else redactor.text(raw.note)
    return Sample(raw.columns, raw.hidden, tuple(rows), note, raw.order, limit)


def redact_defaults(catalog: Catalog, redactor: Redactor) -> Catalog:
    """Column defaults are data written into the schema (`DEFAULT 'sk_live_...'`): they get
    the value rules before any card shows them."""
    tables = {}
    for key, table in catalog.tables.items():
        columns = tuple(
            dataclasses.replace(c, default=redactor.text(c.default)) if c.default else c
            for c in table.columns
        )
        tables[key] = dataclasses.replace(table, columns=columns)
    return dataclasses.replace(catalog, tables=tables)


# Prefixed keys (the prefix is kept) and what follows each prefix.
_UNAMBIGUOUS_KEYS = (
    (r"gh[pousr]_", r"[A-Za-z0-9]{30,}"),  # GitHub
    (r"github_pat_", r"[A-Za-z0-9_]{30,}"),
    (r"glpat-", r"[A-Za-z0-9_-]{20,}"),  # GitLab
    (r"(?:sk|rk)_(?:live|test)_", r"[A-Za-z0-9]{10,}"),  # Stripe
    (r"whsec_", r"[A-Za-z0-9+/=]{16,}"),
    (r"xox[abprs]-", r"[A-Za-z0-9-]{10,}"),  # Slack
    (r"AKIA|ASIA", r"[A-Z0-9]{16}(?![A-Za-z0-9])"),  # AWS access key ids
)
# Only what cannot be anything but a secret, each with how it is masked; quotes and the
# text around stay, so a view definition or a constraint still reads as SQL.
_UNAMBIGUOUS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(VALUE_RULES["private key block"]), mask_pem),
    (
        re.compile(
            r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]{0,31}://[^:/?#@\s'\"]{0,256}:)(?P<password>[^@\s'\"/?#]{1,1024})@"
        ),
        lambda m: m["head"] + "***@",
    ),
    (
        re.compile(r"(?P<head>\bhttps?://hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/-]+"),
        lambda m: m["head"] + REDACTED,
    ),
    (
        re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"),
        lambda m: REDACTED,
    ),
    *(
        (re.compile(rf"(?<![A-Za-z0-9_-])(?P<prefix>{prefix}){rest}"), lambda m: m["prefix"] + REDACTED)
        for prefix, rest in _UNAMBIGUOUS_KEYS
    ),
    (
        re.compile(
            r"(?i)(?P<head>\b(?:aws[_-]?)?secret[_-]?access[_-]?key[\"']?[ \t]*(?:=>|[=:,])[ \t]*[\"']?)"
            r"[A-Za-z0-9/+]{16,}={0,2}(?![A-Za-z0-9/+=])"
        ),
        lambda m: m["head"] + REDACTED,
    ),
    # A bearer token has digits and letters: `Bearer authentication` in a comment stays.
    (
        re.compile(
            r"(?P<head>\b(?i:bearer)[ \t]+)(?=[A-Za-z0-9._~+/=-]*\d)(?=[A-Za-z0-9._~+/=-]*[A-Za-z])"
            r"[A-Za-z0-9._~+/-]{16,}=*"
        ),
        lambda m: m["head"] + REDACTED,
    ),
    (_CARD_RUN, mask_issued_card_run),
]


# What every text an _UNAMBIGUOUS rule changes holds, one alternative (a looser pattern) per
# rule: schema text without any of these costs one search instead of one per rule. Bounded
# like the rules, so that the search stays linear.
_MAYBE_UNAMBIGUOUS = re.compile(
    "|".join(
        (
            r"-----BEGIN ",  # private key block
            r"://[^@\s'\"]{1,1281}@",  # a URL's password: host and password bounds, and a colon
            r"hooks\.slack\.com/",
            r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ",  # JWT
            r"gh[pousr]_|github_pat_|glpat-|[sr]k_(?:live|test)_|whsec_|xox[abprs]-|AKIA|ASIA",
            r"(?i:secret[_-]?access[_-]?key)",
            r"(?i:bearer)[ \t]",
            r"\d(?:[ -]?\d){12}",  # a card number has 13 digits at least
        )
    )
)


def _mask_each_unambiguous(text: str) -> str:
    for pattern, replace in _UNAMBIGUOUS:
        text = pattern.sub(replace, text)
    return text


def mask_unambiguous(text: str) -> str:
    """`text` with only unambiguous secrets masked — URL passwords, AWS, GitHub, GitLab, Stripe
    and Slack keys, JWTs, private key blocks, bearer tokens, card numbers — and every other
    character as it was: for SQL and comments from the catalog, where an email, a phone
    number or a UUID is schema, not data."""
    try:
        return _mask_each_unambiguous(text) if _MAYBE_UNAMBIGUOUS.search(text) else text
    except Exception:  # never fails a build; what cannot be inspected is not shown
        return REDACTED


# Fields of the model that hold text written by whoever wrote the schema: comments,
# definitions, expressions, labels. Names and types are left alone: they are identifiers.
SCHEMA_TEXT_FIELDS = frozenset(
    {
        "comment",
        "view_definition",
        "partition_key",
        "partition_bound",
        "definition",
        "using",
        "check",
        "bound",
        "labels",
        "default",
        "checks",
        "generated",
        "body",
        "settings",
        "foreign_options",
        "options",
    }
)


_ATOMS = (str, int, float, bool, type(None))  # no schema text below these


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, bool], ...] | None:
    """A model class's fields that may hold schema text, each with whether it is schema
    text itself (else it may hold model objects that do); None for a class that is not a
    dataclass. Fields of names, numbers and flags are left out: the walk is most of the
    time redaction takes."""
    if not dataclasses.is_dataclass(cls):
        return None
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # unresolvable annotations: every field is walked
        hints = {}
    return tuple(
        (item.name, item.name in SCHEMA_TEXT_FIELDS)
        for item in dataclasses.fields(cls)
        if item.name in SCHEMA_TEXT_FIELDS or _may_hold_objects(hints.get(item.name, Any))
    )


def _may_hold_objects(annotation: Any) -> bool:
    """Whether a value of this type may hold a dataclass (unknown types may)."""
    if annotation in (str, int, float, bool, bytes, type(None)):
        return False
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return True  # a dataclass, or a type not known to hold none
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    return not args or any(_may_hold_objects(a) for a in args)


def _masked_schema_text(value: Any) -> Any:
    if isinstance(value, _ATOMS):
        return value
    fields = _fields(value.__class__)
    if fields is not None:
        changes = {}
        for name, is_text in fields:
            current = getattr(value, name)
            if not is_text and isinstance(current, _ATOMS):
                continue
            masked = _mask_field(current) if is_text else _masked_schema_text(current)
            if masked is not current:
                changes[name] = masked
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, tuple):
        items = tuple(_masked_schema_text(v) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, dict):
        mapped = {k: _masked_schema_text(v) for k, v in value.items()}
        return value if all(mapped[k] is value[k] for k in value) else mapped
    return value


def _mask_field(value: Any) -> Any:
    if isinstance(value, str):
        masked = mask_unambiguous(value)
        return value if masked == value else masked
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        items = tuple(_mask_field(v) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value


def redact_schema_text(catalog: Catalog) -> Catalog:
    """Unambiguous secrets (URLs with a password, cloud and API tokens, JWTs, private keys,
    card numbers) masked in every piece of schema text a page may show: comments, view
    definitions, constraints, index and policy expressions, trigger definitions, partition
    bounds, enum labels, defaults. Anything else stays exactly as PostgreSQL prints it."""
    masked = _masked_schema_text(catalog)
    assert isinstance(masked, Catalog)
    return masked
