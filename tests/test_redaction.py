"""The redactor on its own: column rules, value rules, JSON at any depth."""

from __future__ import annotations

import json

import pytest

from mkdocs_dbschema.analysis.redaction import REDACTED, Pseudonyms, Redactor, mask_url


def cell(column: str, value: str | None, type_name: str = "text", redactor: Redactor | None = None):  # type: ignore[no-untyped-def]
    return (redactor or Redactor()).cell(column, type_name, value, Pseudonyms())


@pytest.mark.parametrize(
    "column, value, expected, rule",
    [
        ("access_token", "EAAGm0PBZCFAKE123", REDACTED, "column token"),
        ("api_key", "anything at all", REDACTED, "column token"),
        ("app_secret", "deadbeef", REDACTED, "column secret"),
        ("password_hash", "$2b$12$abc", REDACTED, "column secret"),
        ("authorization", "Basic dXNlcjpwYXNz", REDACTED, "column token"),
        ("guest_phone", "+57 300 555 0177", "+•• ••• ••• ••••", "column phone"),
        ("contact_email", "ana@hotel.co", "•••@•••.co", "column email"),
        (
            "wamid",
            "wamid.HBgMNTczMDA1NTUwMTc3FQIAEhgg",
            "wamid.xxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "column external id",
        ),
        ("motopress_id", "4312", "xxxx", "column external id"),
        ("external_id", "MOTO_58213", "MOTO_xxxxx", "column external id"),
        (
            "ics_feed_url",
            "https://www.airbnb.com/calendar/ical/1234.ics?s=3f9a77&lang=es",
            "https://www.airbnb.com/calendar/ical/1234.ics?s=•••&lang=es",
            "column url",
        ),
    ],
)
def test_column_rules(column: str, value: str, expected: str, rule: str) -> None:
    result = cell(column, value)
    assert (result.text, result.rules) == (expected, {rule})


def test_internal_uuids_and_plain_values_are_kept() -> None:
    uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
    assert cell("tenant_id", uuid).text == uuid and not cell("tenant_id", uuid).rules
    assert cell("airbnb_listing_id", uuid).text == uuid  # an id column holding a uuid stays
    assert cell("sync_status", "error").text == "error"
    assert cell("notes", None).text is None


def test_account_names_become_stable_pseudonyms() -> None:
    redactor, names = Redactor(), Pseudonyms()
    first = redactor.cell("business_account_name", "text", "Hotel Caribe SAS", names)
    second = redactor.cell("business_account_name", "text", "Posada Medellín", names)
    again = redactor.cell("business_account_name", "text", "Hotel Caribe SAS", names)
    guest = redactor.cell("guest_name", "text", "Ana María", names)
    assert (first.text, second.text, again.text, guest.text) == (
        "Account A",
        "Account B",
        "Account A",
        "Guest A",
    )


@pytest.mark.parametrize(
    "value, expected, rule",
    [
        (
            "failed: Authorization: Bearer abcDEF123456789xyz rejected",
            "failed: Authorization: Bearer [REDACTED] rejected",
            "http auth",
        ),
        (
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlX2Zha2U expired",
            "token [REDACTED] expired",
            "jwt",
        ),
        ("key sk_live_51FAKEabcdefghijklmnop used", "key sk_live_[REDACTED] used", "api key"),
        ("secret whsec_FAKEdemo1234567890abc", "secret whsec_[REDACTED]", "api key"),
        ("meta EAAGm0PBZCFAKEdemoTOKEN1234567890abc", "meta EAA[REDACTED]", "api key"),
        ("woo ck_0123456789abcdef0123456789abcdef01234567", "woo ck_[REDACTED]", "api key"),
        ("mail juan.perez+vip@gmail.com now", "mail •••@•••.com now", "email address"),
        ("call +573005550177 today", "call +•••••••••••• today", "phone number"),
        (
            "GET https://admin:hunter2@pms.example.com/wp-json/mphb/v1/bookings?consumer_key=ck_x&page=2",
            "GET https://•••:•••@pms.example.com/wp-json/mphb/v1/bookings?consumer_key=•••&page=2",
            "url with secrets",
        ),
        ("blob 8f14e45fceea167a5a36dedd4bea2543ab12cd34ef56 end", "blob [REDACTED] end", "random token"),
    ],
)
def test_value_rules_in_free_text(value: str, expected: str, rule: str) -> None:
    result = cell("sync_error", value)
    assert result.text == expected and rule in result.rules


def test_json_is_redacted_at_any_depth() -> None:
    document = {
        "auth": {
            "api_key": "k-123",
            "client_secret": "s-456",
            "nested": [{"access_token": "t-789"}],
        },
        "webhooks": [{"url": "https://hooks.example.com/in?token=abc123", "verify_token": "v-1"}],
        "contact": {"email": "ops@hotel.co", "note": "call +573005550177"},
        "retries": 3,
        "enabled": True,
    }
    result = cell("config", json.dumps(document), "jsonb")
    redacted = json.loads(result.text)
    assert redacted["auth"] == REDACTED  # an object under a secret key is hidden whole
    assert redacted["webhooks"] == [
        {"url": "https://hooks.example.com/in?token=•••", "verify_token": REDACTED}
    ]
    assert redacted["contact"] == {"email": "•••@•••.co", "note": "call +••••••••••••"}
    assert (redacted["retries"], redacted["enabled"]) == (3, True)
    assert {
        "JSON key token",
        "JSON key email",
        "phone number",
        "url with secrets",
    } <= result.rules


def test_a_secret_named_json_column_is_redacted_whole() -> None:
    assert cell("credentials", '{"user": "a", "pass": "b"}', "jsonb").text == REDACTED


def test_arrays_are_redacted_element_by_element_in_their_text_form() -> None:
    result = cell("notify", '{ana@hotel.co,"+573005550177",plain}', "text[]")
    assert result.text == '{•••@•••.co,"+••••••••••••",plain}'


def test_url_masking_keeps_scheme_host_and_path() -> None:
    assert mask_url(
        "https://calendar.google.com/calendar/ical/abc%40group/private-8f14e45fceea167a5a36dedd4bea2543/basic.ics"
    ) == ("https://calendar.google.com/calendar/ical/abc%40group/[REDACTED]/basic.ics")
    assert mask_url("postgresql://app:pw@db:5432/muva") == "postgresql://•••:•••@db:5432/muva"


def test_rules_are_configurable() -> None:
    custom = Redactor.configured({"loyalty": r"loyalty_code"}, {"ticket": r"TCK-\d{6}"}, ["phone number"])
    assert cell("loyalty_code", "GOLD-1", redactor=custom).text == REDACTED
    assert cell("note", "see TCK-123456", redactor=custom).text == "see [REDACTED]"
    assert cell("note", "call +573005550177", redactor=custom).text == "call +573005550177"
    with pytest.raises(ValueError, match="unknown redaction rule"):
        Redactor.configured({}, {}, ["nope"])
    with pytest.raises(ValueError, match="bad regular expression"):
        Redactor.configured({"broken": "("}, {}, [])


@pytest.mark.parametrize(
    "column, type_name, value, leaked",
    [
        # Objects and arrays under a secret key are hidden whole.
        ("meta", "jsonb", '{"secret": {"value": "hunter2"}}', "hunter2"),
        ("meta", "jsonb", '{"auth": {"user": "admin", "pass": "hunter2"}}', "hunter2"),
        ("meta", "jsonb", '{"password": ["a", {"x": "hunter2"}]}', "hunter2"),
        # WhatsApp webhook payloads: profile names and wa_id / from numbers.
        (
            "payload",
            "jsonb",
            '{"contacts": [{"profile": {"name": "Andrés Felipe"}, "wa_id": "573185550142"}]}',
            "Andrés",
        ),
        (
            "payload",
            "jsonb",
            '{"messages": [{"from": "573185550142", "text": {"body": "hola"}}]}',
            "573185550142",
        ),
        # JSON that is not a json column, and key=value secrets in any text.
        ("payloads", "jsonb[]", '{"{\\"password\\": \\"hunter2\\"}"}', "hunter2"),
        ("settings", "text", '{"client_secret": "hunter2"}', "hunter2"),
        ("h", "hstore", '"password"=>"hunter2", "user"=>"x"', "hunter2"),
        ("note", "text", "host=db user=app password=hunter2", "hunter2"),
        ("note", "text", "Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
        ("note", "text", "https://us02web.zoom.us/j/855123?pwd=Vm1aT0xwMExlZz09", "Vm1aT0xwMExlZz09"),
        (
            "note",
            "text",
            "https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/aB3dE5gH7jK9mN1pQ3rS5tU7",
            "aB3dE5gH7",
        ),
        ("note", "text", "glpat-abcdefghij1234567890", "abcdefghij1234567890"),
        ("note", "text", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "eyJzdWIiOiIxIn0"),
        # A JSON column named like a rule gets that rule.
        ("contact_name", "jsonb", '"Juan Perez"', "Juan"),
        ("external_id", "jsonb", '"MOTO_12345"', "12345"),
        # Too deep to inspect: nothing of it is published.
        ("deep", "jsonb", "[" * 5000 + '"hunter2"' + "]" * 5000, "hunter2"),
    ],
)
def test_no_leak(column: str, type_name: str, value: str, leaked: str) -> None:
    result = cell(column, value, type_name)
    assert leaked not in (result.text or "") and result.rules


def test_disabling_a_column_rule_keeps_the_value_rule_of_the_same_kind() -> None:
    no_column_rule = Redactor.configured({}, {}, ["phone"])
    assert cell("guest_phone", "call +573005550177", redactor=no_column_rule).text == "call +••••••••••••"
