"""Any vendor text, any size: bounded where it is read, one treatment for every published field."""

from __future__ import annotations

import contextlib
import importlib
import re
import sys
import unicodedata
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from ilert_statuspage_sync.core import markup
from ilert_statuspage_sync.core.model import Alert, Event, EventKind, Mirror
from ilert_statuspage_sync.core.parse import parse_alert, parse_log_entry
from ilert_statuspage_sync.core.plan import MAX_BODY, MAX_NAME, plan_calls
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan, screen_comments
from ilert_statuspage_sync.core.templates import Templates, compile_template

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONTEXT = PublishContext("public-api", "page1", "https://api.ilert.com")
TEN_MB = 10_000_000
# Far above what can be published (a body of 25,000), far below what costs time.
READ_BOUND = 100_000
HOSTILE = [
    "<a" * (TEN_MB // 2),
    "x" * TEN_MB,
    "<!--" + "<b>" * (TEN_MB // 3),
    "&amp;" * (TEN_MB // 5),
]


def _alert(summary: str = "API down", details: str = "5xx") -> Alert:
    return Alert(
        id=7,
        source_id=101,
        source_name="Checkout",
        summary=summary,
        details=details,
        status="PENDING",
        priority="HIGH",
        report_time=T0,
    )


def _publish(alert: Alert, comments: list[str], policy: PublishPolicy) -> Any:
    events = [Event(EventKind.CREATED, T0, Mirror("PENDING", "HIGH"))]
    events += [
        Event(EventKind.COMMENT_ADDED, T0, Mirror("PENDING", "HIGH"), comment=text)
        for text in comments
    ]
    plan = plan_calls(
        screen_comments(events, policy), alert, lifecycle="classic", current_status=None
    )
    return publish_plan(plan, alert, policy, CONTEXT)


def _converter_modules() -> list[ModuleType]:
    """Every module that binds the markup converter by name."""
    found = [importlib.import_module("ilert_statuspage_sync.core.publish")]
    with contextlib.suppress(ImportError):  # the version before the public-text module
        found.append(importlib.import_module("ilert_statuspage_sync.core.public_text"))
    return [module for module in found if hasattr(module, "plain_text")]


def _recording_converter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of every text the markup converter is handed."""
    sizes: list[int] = []

    def recording(text: str) -> str:
        sizes.append(len(text))
        return markup.plain_text(text[:READ_BOUND])  # recorded, then converted within bounds

    for module in _converter_modules():
        monkeypatch.setattr(module, "plain_text", recording)
    return sizes


class TestBoundedAtTheRead:
    @pytest.mark.parametrize("text", HOSTILE, ids=["unclosed-tags", "plain", "comment", "entities"])
    def test_ilert_texts_are_cut_where_they_are_read(self, text):
        """A 10 MB summary, details or comment is at most 100,000 characters once parsed."""
        alert = parse_alert(
            {"id": 5, "status": "PENDING", "reportTime": "2026-01-01T00:00:00Z"}
            | {"summary": text, "details": text}
        )
        entry = parse_log_entry(
            {
                "id": 9,
                "timestamp": "2026-01-01T00:00:00Z",
                "logEntryType": "AlertCommentAddedLogEntry",
                "text": text,
            },
            5,
        )
        assert len(alert.summary) <= READ_BOUND
        assert len(alert.details) <= READ_BOUND
        assert entry.comment is not None and len(entry.comment) <= READ_BOUND

    def test_the_converter_never_sees_more_than_the_bound(self, monkeypatch):
        """Whatever reaches the publish step, markup conversion is handed at most 100,000 chars."""
        sizes = _recording_converter(monkeypatch)
        huge = "<a" * (TEN_MB // 2)
        plan = _publish(_alert(huge, huge), [huge], PublishPolicy())
        assert sizes and max(sizes) <= READ_BOUND
        assert all(len(call.body or "") <= MAX_BODY for call in plan.calls)

    def test_the_converter_tries_each_tag_start_once(self, monkeypatch):
        """Linear conversion: one match attempt per "<", each stopping at the next "<"."""

        class Counting:
            def __init__(self, pattern: re.Pattern[str]) -> None:
                self.pattern = pattern
                self.calls = 0

            def match(self, text: str, position: int) -> re.Match[str] | None:
                self.calls += 1
                return self.pattern.match(text, position)

        counting = Counting(markup._TAG)
        monkeypatch.setattr(markup, "_TAG", counting)
        text = "<a" * 50_000 + '<b title="x>y">' * 1_000
        markup.plain_text(text)
        assert counting.calls <= text.count("<")

    def test_hostile_markup_keeps_its_text(self):
        """Unclosed tags, a quoted ">" and stray "<" convert as a browser would show them."""
        assert markup.plain_text("<a" * 3) == "<a<a<a"
        assert markup.plain_text('<a title="x>y">link</a> <b>bold</b>') == "link bold"
        assert markup.plain_text("x<!-- never closed") == "x"
        assert markup.plain_text("a<script>never closed") == "a"
        assert markup.plain_text("1 << 2 <3") == "1 << 2 <3"
        assert markup.plain_text("&#" + "9" * 5000 + ";x&#" + "0" * 5000 + "65;") == "\ufffdxA"


class TestTemplatesNeverBlock:
    @pytest.mark.parametrize("field", ["summary", "details", "comment"])
    def test_a_text_over_the_template_bound_publishes_clipped(self, field):
        """Over 100,000 characters in the summary, details or a comment: clipped, not failed."""
        big = "y" * 150_000
        alert = _alert(**{field: big}) if field != "comment" else _alert()
        plan = _publish(alert, [big] if field == "comment" else [], PublishPolicy())
        create, *comment = plan.calls
        assert len(comment) == (field == "comment")
        call = comment[0] if comment else create
        assert create.name is not None and len(create.name) <= MAX_NAME
        assert call.body is not None and len(call.body) <= MAX_BODY
        shown = create.name if field == "summary" else call.body
        assert shown.endswith("y [truncated]")


class TestOneTreatment:
    def test_markup_in_names_and_details_is_plain_text(self):
        """Summary and details lose their tags like comments do; entities are decoded."""
        alert = _alert("<b>API</b> &amp; web down", "<p>5xx</p><p>on /v2</p>")
        (call,) = _publish(alert, [], PublishPolicy()).calls
        assert (call.name, call.body) == ("API & web down", "5xx\n\non /v2")

    @pytest.mark.parametrize(
        ("text", "published"),
        [
            ("db\u200b-99 down", "[redacted] down"),
            ("pass\u200bword=hunter2", "[redacted]"),
            ("\uff44\uff42-7 down", "[redacted] down"),  # fullwidth letters: NFKC
            ("db-\u00ad8 and db\u2060-9", "[redacted] and [redacted]"),
            ("p<b></b>assword=x", "[redacted]"),
            ("db&#8203;-99", "[redacted]"),  # a zero-width space written as an entity
            ("db\x07-99 and db-\x1b9", "[redacted] and [redacted]"),  # controls go first
        ],
    )
    def test_invisible_characters_do_not_defeat_redact(self, text, published):
        """Redaction matches after NFKC and without format characters, in names and bodies."""
        policy = PublishPolicy(redact=(re.compile(r"db-\d+"), re.compile(r"password=\S+")))
        (call,) = _publish(_alert(text, text), [], policy).calls
        assert (call.name, call.body) == (published, published)

    def test_every_format_character_is_dropped(self):
        """Every Unicode Cf character of this Python's database vanishes from published text."""
        public_text = importlib.import_module("ilert_statuspage_sync.core.public_text")
        format_chars = "".join(
            chr(code)
            for code in range(sys.maxunicode + 1)
            if unicodedata.category(chr(code)) == "Cf"
        )
        assert public_text.normalised("a" + format_chars + "b") == "ab"

    def test_ordinary_text_is_unchanged(self):
        """Text without markup, format or compatibility characters is published as written."""
        text = "Checkout: élevé, 東京, p99 > 2 s; retry <= 3"
        (call,) = _publish(_alert(text, text), [], PublishPolicy()).calls
        assert (call.name, call.body) == (text, text)

    def test_the_source_name_is_vendor_text_too(self):
        """alert.source.name is bounded where read and plain in templates, like the summary."""
        alert = parse_alert(
            {"id": 5, "status": "PENDING", "reportTime": "2026-01-01T00:00:00Z"}
            | {"alertSource": {"id": 1, "name": "<b>Check</b>out\u200b" + "x" * TEN_MB}}
        )
        assert alert.source_name is not None and len(alert.source_name) <= READ_BOUND
        policy = PublishPolicy(
            templates=Templates((compile_template("name", "{{ alert.source.name }}", "t"),))
        )
        (call,) = _publish(alert, [], policy).calls
        assert call.name is not None and call.name.startswith("Checkoutxxx")

    def test_fullwidth_brackets_are_published_as_written(self):
        """Fullwidth brackets are no tag to a reader's browser: published as written, not
        normalised into ``<b>`` (published text keeps its original characters)."""
        text = "\uff1cb\uff1eAPI\uff1c/b\uff1e down"
        (call,) = _publish(_alert(text, text), [], PublishPolicy()).calls
        assert (call.name, call.body) == (text, text)


# Default-ignorable code points that are not format characters (category Cf).
IGNORABLE = ["\u034f", "\ufe00", "\ufe0f", "\U000e0100", "\U000e01ef", "\u115f", "\u1160"]
IGNORABLE += ["\u3164", "\uffa0", "\u17b4", "\u180b"]


class TestWhatIsPublished:
    @pytest.mark.parametrize("char", IGNORABLE, ids=lambda c: f"U+{ord(c):04X}")
    def test_a_default_ignorable_character_defeats_no_redaction(self, char: str):
        """A default-ignorable character inside ``db-99`` is dropped before redaction."""
        policy = PublishPolicy(redact=(re.compile(r"db-\d+"),))
        text = f"host d{char}b-9{char}9 down"
        (call,) = _publish(_alert(text, text), [], policy).calls
        assert (call.name, call.body) == ("host [redacted] down", "host [redacted] down")

    @pytest.mark.parametrize("summary", ["\u3164", "\u2800 \ufe0f", "\uffa0\u115f"])
    def test_a_summary_of_only_invisible_characters_gets_the_fallback_name(self, summary: str):
        """A summary a reader sees as blank is no name: the incident is "iLert alert 7"."""
        (call,) = _publish(_alert(summary, "x"), [], PublishPolicy()).calls
        assert call.name == "iLert alert 7"

    @pytest.mark.parametrize(
        "text", ["2\u2075 minutes", "10\u207b\u00b3 s", "\u2460 step", "caf\u00e9"]
    )
    def test_numbers_and_symbols_are_published_as_written(self, text: str):
        """NFKC is for matching only: ``2⁵`` is not published as ``25``, nor ``①`` as ``1``."""
        (call,) = _publish(_alert(text, text), [], PublishPolicy()).calls
        assert (call.name, call.body) == (text, text)

    def test_a_match_on_the_normalised_view_replaces_its_original_characters(self):
        """Fullwidth ``db-99`` matches ``db-\\d+`` and its own characters are replaced; the
        text around keeps its superscript and its decomposed accent."""
        policy = PublishPolicy(redact=(re.compile(r"db-\d+"),))
        text = "2\u2075 on \uff44\uff42\uff0d\uff19\uff19 cafe\u0301"
        (call,) = _publish(_alert(text, text), [], policy).calls
        assert call.body == "2\u2075 on [redacted] cafe\u0301"

    @pytest.mark.parametrize(
        ("text", "shown"),
        [
            # The reassembled <script> is never closed: it hides the rest, as in a browser.
            ("a <scr<b></b>ipt>alert(1)</script> b", "a"),
            ("a &lt;b&gt;bold&lt;/b&gt; b", "a bold b"),
            ("x &amp;lt;i&amp;gt;y", "x &lt;i&gt;y"),  # decoded once: text, no tag
        ],
    )
    def test_markup_that_reassembles_or_decodes_into_a_tag_leaves_no_tag(self, text, shown):
        """Tags reassembled by stripping or decoded from entities are stripped too."""
        (call,) = _publish(_alert("n", text), [], PublishPolicy()).calls
        assert call.body == " ".join(shown.split())
        assert "<" not in (call.body or "")
