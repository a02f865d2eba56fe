"""What the public sees, as pure steps: templates, filters, comments, overrides, rendering."""

from __future__ import annotations

import contextlib
import importlib
import re
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ilert_statuspage_sync.config import parse_config
from ilert_statuspage_sync.core.filters import VerdictKind, screen_alert
from ilert_statuspage_sync.core.lifecycle import RuleKind
from ilert_statuspage_sync.core.markup import plain_text
from ilert_statuspage_sync.core.model import Alert, Event, EventKind, Mirror
from ilert_statuspage_sync.core.overrides import overridden_rule
from ilert_statuspage_sync.core.plan import (
    MAX_BODY,
    MAX_NAME,
    Call,
    CallKind,
    Decision,
    Outcome,
    plan_calls,
)
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.preview import preview_writes
from ilert_statuspage_sync.core.publish import (
    PublishContext,
    publish_plan,
    screen_comments,
    write_kind,
)
from ilert_statuspage_sync.core.templates import (
    DEFAULT_SOURCES,
    MAX_RENDERED,
    RenderError,
    Templates,
    alert_url,
    compile_template,
)
from ilert_statuspage_sync.errors import ConfigError
from tests.support.settings import ENV, ORIGIN, minimal_settings

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONTEXT = PublishContext("public-api", "page1", "https://api.ilert.com")


def alert(**changes: Any) -> Alert:
    base: dict[str, Any] = {
        "id": 7,
        "source_id": 101,
        "source_name": "Checkout",
        "summary": "db-7 pool exhausted",
        "details": "max_connections reached on 10.0.3.17",
        "status": "PENDING",
        "priority": "HIGH",
        "report_time": T0,
    }
    base.update(changes)
    return Alert(**base)


def event(kind: EventKind, minute: int = 0, text: str | None = None) -> Event:
    return Event(kind, T0 + timedelta(minutes=minute), Mirror("PENDING", "HIGH"), comment=text)


def policy(templates: dict[str, str] | None = None, **changes: Any) -> PublishPolicy:
    compiled = tuple(
        compile_template(key, source, f"t.toml: templates.{key}")
        for key, source in (templates or {}).items()
    )
    return PublishPolicy(templates=Templates(compiled), **changes)


def published(events: list[Event], pol: PublishPolicy, current: str | None = None, **kw: Any):
    screened = screen_comments(events, pol)
    plan = plan_calls(
        screened,
        kw.pop("the_alert", alert()),
        lifecycle=kw.pop("lifecycle", "classic"),
        current_status=current,
        statuses=pol.statuses,
    )
    return publish_plan(plan, kw.pop("for_alert", alert()), pol, CONTEXT)


class TestTemplates:
    def test_syntax_error_names_key_and_line(self):
        """A template that does not compile is a ConfigError with its key and line."""
        with pytest.raises(ConfigError, match=r"templates\.created: template line 2: "):
            compile_template("created", "ok\n{{ alert.summary ", "f.toml: templates.created")

    @pytest.mark.parametrize(
        ("source", "fragment"),
        [
            ("{{ alrt.summary }}", "unknown variable 'alrt'"),
            ("{{ alert.summry }}", "unknown variable 'alert.summry'"),
            ("{{ alert.source.title }}", "unknown variable 'alert.source.title'"),
            ("{{ comment.text }}", "'comment' is only known in templates.comment"),
            ("{{ alert.__class__ }}", "unknown variable 'alert.__class__'"),
        ],
    )
    def test_unknown_variable_is_a_config_error(self, source, fragment):
        """A name the context does not offer is refused at load, with the line."""
        with pytest.raises(ConfigError, match=re.escape(fragment)) as caught:
            compile_template("name", source, "f.toml: incident_actions[0].templates.name")
        assert "f.toml: incident_actions[0].templates.name: template line 1" in str(caught.value)

    def test_every_default_wording_compiles(self):
        """Today's wording, compiled at its first render, is itself a valid template."""
        for key, source in DEFAULT_SOURCES.items():
            assert compile_template(key, source, f"default templates.{key}").source == source

    def test_a_config_read_without_templates_compiles_none_until_rendered(self):
        """``templates=False`` (status, history, db) checks the shape only; a render compiles."""
        settings = minimal_settings()
        settings["incident_actions"][0]["templates"] = {"name": "{{ alrt }}"}
        config = parse_config(settings, ENV, origin=ORIGIN, templates=False)
        template = config.incident_actions[0].publish.templates.get("name")
        with pytest.raises(ConfigError, match="unknown variable 'alrt'"):
            template.render({})
        with pytest.raises(ConfigError, match="unknown variable 'alrt'"):
            parse_config(settings, ENV, origin=ORIGIN)

    def test_names_a_template_binds_itself_are_allowed(self):
        """Loop variables and {% set %} names are not context variables."""
        template = compile_template(
            "name", "{% set s = alert.summary %}{% for w in [s] %}{{ w|upper }}{% endfor %}", "t"
        )
        assert template.render({"alert": {"summary": "down"}}) == "DOWN"

    def test_render_error_is_a_render_error_naming_the_template(self):
        """A failure at run time raises RenderError, naming the template, never crashing."""
        template = compile_template("created", "{{ alert.summary / 2 }}", "f.toml: t.created")
        with pytest.raises(RenderError, match=r"template f\.toml: t\.created: "):
            template.render({"alert": {"summary": "x"}})

    def test_sandbox_refuses_python_internals(self):
        """The sandbox keeps a template away from Python internals."""
        template = compile_template("name", "{{ event.__class__.__mro__ }}", "t")
        with pytest.raises(RenderError):
            template.render({"event": "created"})

    @pytest.mark.parametrize(
        ("source", "fragment"),
        [
            ("ok\n{{ alert.summary|nosuchfilter }}", "template line 2: No filter named"),
            ("{{ 7 ** 3000000 }}", "template line 1: **: result larger than"),
            ("\n\n{{ 'x' * 1000000000 }}", "template line 3: *: result longer than"),
        ],
    )
    def test_compile_errors_are_config_errors_with_the_line(self, source, fragment):
        """A template that fails to compile (unknown filter, huge constant) is a ConfigError."""
        with pytest.raises(ConfigError) as caught:
            compile_template("name", source, "f.toml: incident_actions[0].templates.name")
        assert str(caught.value).startswith("f.toml: incident_actions[0].templates.name: ")
        assert fragment in str(caught.value)

    @pytest.mark.parametrize(
        "source",
        [
            "{% for joiner in [1] %}{% endfor %}{{ joiner }}",
            "{% for namespace in [1] %}{% endfor %}{{ namespace }}",
            "{% for range in [1] %}{% endfor %}{{ range(3) }}",
            "{% for cycler, lipsum in [(1, 2)] %}{% endfor %}{{ cycler }}{{ lipsum }}",
        ],
    )
    def test_a_name_out_of_scope_is_undefined_not_a_jinja_global(self, source):
        """Jinja's globals are gone: a name bound elsewhere renders as an error, not a class."""
        template = compile_template("name", source, "t")
        with pytest.raises(RenderError, match="undefined"):
            template.render({})

    @pytest.mark.parametrize(
        "source",
        [
            "{% set n = 3000000 %}{{ 7 ** n }}",
            "{% set n = 1000000000 %}{{ 'x' * n }}",
            "{% set n = 1000000000 %}{{ [1] * n }}",
            "{% for a in 'x' * 10000 %}{% for b in 'x' * 10000 %}{% endfor %}{% endfor %}",
            "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
            "{% set n = 1000000000 %}{{ 'x'|center(n) }}",
            "{% set n = 1000000000 %}{{ 'x'|indent(n, true) }}",
            "{% set n = 'y' * 99999 %}{{ ('x' * 99999)|replace('', n) }}",
            "{{ '%1000000000d'|format(1) }}",
            "{{ '** %.*f'|format(1000000000, 1.0) }}",
            "{% for x in [1] recursive %}{{ loop([1]) }}{% endfor %}",
            "{% set f = '%.999999999f' %}{{ f % 1 }}",
            "{% set f = '%*d' %}{{ f % (1000000000, 1) }}",
            "{{ 'x'.ljust(1000000000) }}",
            "{{ 'x'.rjust(1000000000) }}",
            "{{ 'x'.center(1000000000) }}",
            "{{ 'x'.zfill(1000000000) }}",
            "{% set f = 'x'.ljust %}{{ f(1000000000) }}",
            "{{ '\t'.expandtabs(1000000000) }}",
            "{{ '{:>1000000000}'.format(1) }}",
            "{{ '{:{}}'.format(1, 1000000000) }}",
            "{{ ('x' * 99999).replace('', 'yy') }}",
            "{% macro d(s) %}{{ d(s ~ s) }}{% endmacro %}{{ d('ab') }}",
            "{% macro d(s) %}{{ d(s + s) }}{% endmacro %}{{ d('ab') }}",
        ],
    )
    def test_rendering_is_bounded(self, source):
        """Huge powers, repetitions, filters and runaway output fail before using much memory."""
        template = compile_template("name", source, "t")
        tracemalloc.start()
        try:
            with pytest.raises(RenderError):
                template.render({})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < 20_000_000

    def test_a_huge_printf_width_in_a_constant_is_refused_at_load(self):
        """``"%.999999999f" % 1`` is a config error, not 2 GB built at every create."""
        with pytest.raises(ConfigError, match="width or precision"):
            compile_template("created", '{{ "%.999999999f" % 1 }}', "t")

    def test_running_out_of_memory_is_a_failed_render(self):
        """A MemoryError inside a render fails that alert like any other template error."""

        class Huge:
            def __str__(self) -> str:
                raise MemoryError

        with pytest.raises(RenderError, match="MemoryError"):
            compile_template("created", "{{ status }}", "t").render({"status": Huge()})

    def test_sized_methods_and_operators_still_work(self):
        """Ordinary padding, formatting, replacing, % and + keep their meaning."""
        source = (
            "{{ 'a'.ljust(3) }}|{{ '7'.zfill(3) }}|{{ '{:>4}'.format('ab') }}"
            "|{{ 'aa'.replace('a', 'b') }}|{{ '%05.1f' % 2.5 }}|{{ 7 % 3 }}"
            "|{{ 'a' + 'b' }}|{{ 1 + 2 }}|{{ 'x' ~ 1 }}"
        )
        assert compile_template("name", source, "t").render({}) == "a  |007|  ab|bb|002.5|1|ab|3|x1"

    def test_runaway_output_is_cut_not_failed(self):
        """Output past 100,000 characters stops the render and is kept, cut at the bound."""
        source = "{% for a in 'x' * 10000 %}{% for b in 'x' * 10000 %}ab{% endfor %}{% endfor %}"
        assert compile_template("created", source, "t").render({}) == "ab" * (MAX_RENDERED // 2)

    def test_sized_filters_still_work(self):
        """center, indent, replace and format keep their ordinary meaning."""
        source = "{{ 'ab'|center(4) }}|{{ 'a\nb'|indent(2) }}|{{ 'aa'|replace('a', 'b', 1) }}|"
        template = compile_template("name", source + "{{ '** %03d'|format(7) }}", "t")
        assert template.render({}) == " ab |a\n  b|ba|** 007"

    def test_loop_and_macro_variables_are_accepted(self):
        """loop.index inside a for loop and macro parameters are ordinary Jinja."""
        source = (
            "{% macro tag(word) %}[{{ word }}]{% endmacro %}"
            "{% for w in [alert.summary] %}{{ loop.index }}{{ tag(w) }}{% endfor %}"
        )
        template = compile_template("name", source, "t")
        assert template.render({"alert": {"summary": "down"}}) == "1[down]"

    def test_alert_url_points_at_the_web_app(self):
        """api.ilert.com serves its web app on app.ilert.com; other hosts are kept."""
        assert alert_url("https://api.ilert.com", 5) == "https://app.ilert.com/alert/view?id=5"
        assert alert_url("http://127.0.0.1:8080", 5) == "http://127.0.0.1:8080/alert/view?id=5"


class TestPlainText:
    @pytest.mark.parametrize(
        ("markup", "plain"),
        [
            ("an update", "an update"),
            ("<p>Fix <b>deployed</b> &amp; verified</p>", "Fix deployed & verified"),
            ("one<br>two", "one\ntwo"),
            ("<ul><li>a</li><li>b</li></ul>", "- a\n- b"),
            ("a  \t b\n\n\n\nc", "a b\n\nc"),
            ("x<script>alert(1)</script>y", "xy"),
            ("if a < b and c > d", "if a < b and c > d"),
            ("&lt;not a tag&gt;", "<not a tag>"),
        ],
    )
    def test_markup_becomes_plain_text(self, markup, plain):
        """Tags are stripped, entities decoded and whitespace tidied."""
        assert plain_text(markup) == plain


class TestFilters:
    def test_defaults_publish_everything(self):
        """With no filter every alert is published at once."""
        verdict = screen_alert(alert(priority="LOW"), PublishPolicy(), now=T0, published=False)
        assert verdict.kind is VerdictKind.PUBLISH

    @pytest.mark.parametrize(
        ("changes", "settings", "rule"),
        [
            ({"priority": "LOW"}, {"min_priority": "HIGH"}, "min_priority"),
            ({}, {"include": re.compile("checkout")}, "include"),
            ({}, {"exclude": re.compile("pool")}, "exclude"),
        ],
    )
    def test_each_filter_names_its_rule(self, changes, settings, rule):
        """An alert kept off the page is filtered by the rule that decided it."""
        verdict = screen_alert(alert(**changes), PublishPolicy(**settings), now=T0, published=False)
        assert (verdict.kind, verdict.rule) == (VerdictKind.FILTER, rule)

    @pytest.mark.parametrize("summary", ["te\u200bst run", "<b>te</b>st run", "\uff54est run"])
    def test_filters_match_the_summary_as_published(self, summary):
        """include and exclude see the summary a reader would: plain, normalised."""
        excluded = PublishPolicy(exclude=re.compile("test"))
        verdict = screen_alert(alert(summary=summary), excluded, now=T0, published=False)
        assert (verdict.kind, verdict.rule) == (VerdictKind.FILTER, "exclude")
        included = PublishPolicy(include=re.compile("^test run$"))
        verdict = screen_alert(alert(summary=summary), included, now=T0, published=False)
        assert verdict.kind is VerdictKind.PUBLISH

    def test_published_alerts_are_never_filtered(self):
        """Once an incident exists the alert is mirrored to resolution (no orphan)."""
        strict = PublishPolicy(min_priority="HIGH", exclude=re.compile("."))
        assert screen_alert(alert(priority="LOW"), strict, now=T0, published=True).publishes

    def test_publish_after_holds_then_publishes(self):
        """An open alert waits for publish_after from its report time, then is published."""
        guard = PublishPolicy(publish_after=60)
        early = screen_alert(alert(), guard, now=T0 + timedelta(seconds=59), published=False)
        late = screen_alert(alert(), guard, now=T0 + timedelta(seconds=60), published=False)
        assert early.kind is VerdictKind.HOLD
        assert late.publishes

    def test_publish_after_filters_a_blip(self):
        """An alert resolved within publish_after is filtered for good, with that reason."""
        blip = alert(status="RESOLVED", resolved_on=T0 + timedelta(seconds=30))
        verdict = screen_alert(
            blip, PublishPolicy(publish_after=60), now=T0 + timedelta(hours=1), published=False
        )
        assert (verdict.kind, verdict.reason) == (
            VerdictKind.FILTER,
            "resolved within publish_after",
        )

    def test_publish_after_publishes_a_long_alert_seen_only_resolved(self):
        """An alert that stayed open longer than the delay is published even if seen late."""
        long = alert(status="RESOLVED", resolved_on=T0 + timedelta(minutes=5))
        verdict = screen_alert(
            long, PublishPolicy(publish_after=60), now=T0 + timedelta(hours=1), published=False
        )
        assert verdict.publishes

    def test_publish_after_holds_an_alert_reported_at_the_end_of_time(self):
        """A report time near year 9999 with a legal delay holds the alert, never overflows."""
        late = alert(report_time=datetime(9999, 12, 29, tzinfo=UTC))
        verdict = screen_alert(late, PublishPolicy(publish_after=604800), now=T0, published=False)
        assert verdict.kind is VerdictKind.HOLD


class TestComments:
    def test_none_withholds_every_comment(self):
        """comments = "none": a comment is withheld and never creates an incident."""
        plan = published([event(EventKind.COMMENT_ADDED, text="internal")], policy(comments="none"))
        assert plan.calls == []
        (decision,) = plan.steps
        assert isinstance(decision, Decision)
        assert decision.outcome is Outcome.NO_CHANGE
        assert decision.reason == 'comments = "none"'

    def test_marked_publishes_only_marked_comments_without_the_marker(self):
        """comments = "marked": unmarked comments are withheld, the marker is removed."""
        events = [
            event(EventKind.COMMENT_ADDED, 1, "internal only"),
            event(EventKind.COMMENT_ADDED, 2, "<p>Fix deployed #public</p>"),
        ]
        plan = published(events, policy(comments="marked"), current="identified")
        assert [call.body for call in plan.calls] == ["Fix deployed"]

    def test_marker_matches_only_as_a_whole_token(self):
        """#publicity does not carry the #public marker; only the whole token is removed."""
        events = [
            event(EventKind.COMMENT_ADDED, 1, "#publicity stunt"),
            event(EventKind.COMMENT_ADDED, 2, "#public #publicity done"),
        ]
        plan = published(events, policy(comments="marked"), current="identified")
        assert [call.body for call in plan.calls] == ["#publicity done"]

    @pytest.mark.parametrize(
        "text",
        [
            "see https://wiki.corp/runbook#public for the steps",
            "C#public API keys rotated",
            "internal##public",
            "#public, not alone",
            "(#public)",
            "#public\u200bfix",  # glued by a zero-width space: one word to a reader
        ],
    )
    def test_a_glued_marker_does_not_count(self, text):
        """The marker counts only with whitespace or the text's edge on both sides."""
        plan = published([event(EventKind.COMMENT_ADDED, 1, text)], policy(comments="marked"))
        assert plan.calls == []
        assert [step.reason for step in plan.steps] == [
            "comments = \"marked\": no '#public' in the comment"
        ]

    @pytest.mark.parametrize(
        ("text", "body"),
        [
            ("#public", None),
            ("fixed #public", "fixed"),
            ("<p>#public</p><p>fixed</p>", "fixed"),
            ("fixed\n#public", "fixed"),
            ("fixed\u3000#public", "fixed"),  # an ideographic space is whitespace
        ],
    )
    def test_a_marker_standing_alone_counts(self, text, body):
        """A marker between whitespace, line breaks, tags or the edges publishes the comment."""
        plan = published(
            [event(EventKind.COMMENT_ADDED, 1, text)],
            policy(comments="marked"),
            current="identified",
        )
        assert [call.body for call in plan.calls] == ([body] if body else [])
        reasons = [getattr(step, "reason", None) or "" for step in plan.steps]
        assert not any(reason.startswith("comments =") for reason in reasons)

    def test_none_never_converts_the_comment(self, monkeypatch):
        """comments = "none" decides before any markup conversion: the converter is never run."""
        _refuse_conversion(monkeypatch)
        screened = screen_comments(
            [event(EventKind.COMMENT_ADDED, 1, "<a" * 100_000)], policy(comments="none")
        )
        assert [(e.comment, e.withheld) for e in screened] == [("", 'comments = "none"')]

    def test_marked_without_the_marker_is_not_converted(self, monkeypatch):
        """comments = "marked": a text without the marker anywhere is withheld unconverted."""
        _refuse_conversion(monkeypatch)
        screened = screen_comments(
            [event(EventKind.COMMENT_ADDED, 1, "<a" * 100_000)], policy(comments="marked")
        )
        assert [e.comment for e in screened] == [""]
        assert screened[0].withheld is not None

    def test_all_publishes_plain_text(self):
        """A comment with markup is published as plain text by default."""
        plan = published(
            [event(EventKind.COMMENT_ADDED, text="<b>Fixed</b> &amp; done")],
            PublishPolicy(),
            current="identified",
        )
        assert [call.body for call in plan.calls] == ["Fixed & done"]


def _refuse_conversion(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every module that binds the markup converter by name gets one that fails the test."""

    def refuse(text: str) -> str:
        raise AssertionError("a withheld comment was converted")

    modules = [importlib.import_module("ilert_statuspage_sync.core.publish")]
    with contextlib.suppress(ImportError):  # the version before the public-text module
        modules.append(importlib.import_module("ilert_statuspage_sync.core.public_text"))
    for module in modules:
        if hasattr(module, "plain_text"):
            monkeypatch.setattr(module, "plain_text", refuse)


class TestOverrides:
    def test_override_replaces_the_status(self):
        """An override sets its status where the table would set another."""
        rule, _ = overridden_rule(
            "classic", EventKind.ACCEPTED, incident_exists=True, statuses={"accepted": "monitoring"}
        )
        assert (rule.kind, rule.status) == (RuleKind.SET_STATUS, "monitoring")

    def test_unchanged_leaves_an_existing_incident_alone(self):
        """ "unchanged" on an existing incident is no change, saying why."""
        rule, _ = overridden_rule(
            "realtime",
            EventKind.ESCALATED,
            incident_exists=True,
            statuses={"escalated": "unchanged"},
        )
        assert rule.kind is RuleKind.NO_CHANGE
        assert rule.note == 'statuses.escalated = "unchanged"'

    def test_unchanged_on_a_new_incident_uses_the_create_status(self):
        """ "unchanged" when no incident exists creates with the lifecycle's status."""
        rule, _ = overridden_rule(
            "classic", EventKind.ACCEPTED, incident_exists=False, statuses={"accepted": "unchanged"}
        )
        assert (rule.kind, rule.status) == (RuleKind.CREATE, "in_progress")

    def test_comment_override_rides_along_with_the_comment(self):
        """An override on comment_added changes the status with the comment's update."""
        plan = published(
            [event(EventKind.COMMENT_ADDED, text="rolling back")],
            policy(status_overrides=(("comment_added", "monitoring"),)),
            current="identified",
        )
        (call,) = plan.calls
        assert (call.status, call.body) == ("monitoring", "rolling back")


class TestPublishPlan:
    def test_defaults_render_todays_name_and_body(self):
        """The default templates give exactly the lifecycle plan's name and body."""
        events = [event(EventKind.CREATED), event(EventKind.COMMENT_ADDED, 1, "note")]
        raw = plan_calls(events, alert(), lifecycle="classic", current_status=None)
        plan = published(events, PublishPolicy())
        assert [(c.kind, c.name, c.body, c.status) for c in plan.calls] == [
            (c.kind, c.name, c.body, c.status) for c in raw.calls
        ]
        assert all(call.notify is True and call.provenance is None for call in plan.calls)

    def test_every_variable_renders(self):
        """Each template variable reaches the rendered text."""
        source = (
            "{{ alert.id }}|{{ alert.summary }}|{{ alert.details }}|{{ alert.priority }}|"
            "{{ alert.status }}|{{ alert.report_time }}|{{ alert.source.id }}|"
            "{{ alert.source.name }}|{{ alert.url }}|{{ event }}|{{ status }}|"
            "{{ action.name }}|{{ action.page_id }}"
        )
        plan = published([event(EventKind.CREATED)], policy({"created": source}))
        assert plan.calls[0].body == (
            "7|db-7 pool exhausted|max_connections reached on 10.0.3.17|HIGH|PENDING|"
            "2026-11-28T09:00:00Z|101|Checkout|https://app.ilert.com/alert/view?id=7|"
            "created|identified|public-api|page1"
        )

    def test_comment_variables_render(self):
        """comment.text and comment.created_at reach the comment template."""
        pol = policy({"comment": "{{ comment.created_at }} {{ comment.text }}"})
        plan = published([event(EventKind.COMMENT_ADDED, 5, "hi")], pol, current="identified")
        assert plan.calls[0].body == "2026-11-28T09:05:00Z hi"

    def test_redact_applies_to_rendered_name_and_body(self):
        """Every redact match in the rendered output becomes [redacted]."""
        pol = policy(
            {"name": "{{ alert.summary }} on {{ alert.source.name }}"},
            redact=(re.compile(r"db-\d+"), re.compile(r"\d+\.\d+\.\d+\.\d+"), re.compile("on C")),
        )
        (call,) = published([event(EventKind.CREATED)], pol).calls
        assert call.name == "[redacted] pool exhausted [redacted]heckout"
        assert call.body == "max_connections reached on [redacted]"

    def test_name_and_body_are_clipped_after_rendering(self):
        """Rendered names stop at 255 characters and bodies at 25,000."""
        pol = policy({"name": "{{ alert.summary * 100 }}", "created": "{{ 'x' * 30000 }}"})
        (call,) = published([event(EventKind.CREATED)], pol).calls
        assert call.name is not None and len(call.name) == MAX_NAME
        assert call.body is not None and len(call.body) == MAX_BODY
        assert call.body.endswith("[truncated]")

    def test_status_text_goes_with_the_status_change(self):
        """accepted/resolved templates give the text sent with that status change."""
        pol = policy({"accepted": "Fix in progress.", "resolved": "All good."})
        plan = published(
            [event(EventKind.ACCEPTED), event(EventKind.RESOLVED, 1)], pol, current="identified"
        )
        assert [(c.status, c.body) for c in plan.calls] == [("resolved", "All good.")]
        plan = published([event(EventKind.ACCEPTED)], pol, current="identified")
        assert [(c.status, c.body) for c in plan.calls] == [("in_progress", "Fix in progress.")]

    def test_update_rendering_no_text_makes_no_call(self):
        """A comment whose template renders nothing is no change, not an empty write."""
        pol = policy({"comment": "{% if 'x' in comment.text %}{{ comment.text }}{% endif %}"})
        plan = published([event(EventKind.COMMENT_ADDED, text="abc")], pol, current="identified")
        assert plan.calls == []
        assert [d.outcome for d in plan.steps if isinstance(d, Decision)] == [Outcome.NO_CHANGE]

    @pytest.mark.parametrize(
        ("notify", "expected"),
        [
            (frozenset({"resolved"}), [False, False, True]),
            (frozenset(), [False, False, False]),
            (frozenset({"created", "body_updated"}), [True, True, False]),
        ],
    )
    def test_notify_per_write_kind(self, notify, expected):
        """deliver_notifications follows the write kind; resolved is its own kind."""
        pol = policy(notify=notify)
        first = published([event(EventKind.CREATED)], pol)
        comment = published([event(EventKind.COMMENT_ADDED, 1, "x")], pol, current="identified")
        resolve = published([event(EventKind.RESOLVED, 2)], pol, current="identified")
        calls = [*first.calls, *comment.calls, *resolve.calls]
        assert [write_kind(c) for c in calls] == ["created", "body_updated", "resolved"]
        assert [c.notify for c in calls] == expected

    def test_write_kind_of_a_plain_status_change(self):
        """A status change other than resolve is status_changed."""
        call = Call(CallKind.UPDATE, status="in_progress")
        call.decisions.append(
            Decision(event(EventKind.ACCEPTED), Outcome.STATUS_CHANGED, "identified", "in_progress")
        )
        assert write_kind(call) == "status_changed"

    def test_provenance_names_templates_and_filters(self):
        """A customised action's writes record which templates and filters produced them."""
        pol = policy({"name": "Checkout degraded"}, min_priority="HIGH")
        (call,) = published([event(EventKind.CREATED)], pol).calls
        assert call.provenance is not None
        assert "templates name+created (custom: name)" in call.provenance
        assert "filters passed: min_priority=HIGH" in call.provenance

    def test_render_error_fails_the_plan(self):
        """A template failing at run time raises RenderError for this alert only."""
        pol = policy({"created": "{{ alert.details / 3 }}"})
        with pytest.raises(RenderError):
            published([event(EventKind.CREATED)], pol)


class TestPublicText:
    def test_names_are_one_line_and_names_and_bodies_lose_bidi_controls(self):
        """A published name has no line break; no name or body keeps a bidi control."""
        bidi = "\u202e\u2066\u200f"
        spoof = alert(summary=f"db down\r\nall{bidi} fine", details=f"see{bidi} log\nnow")
        plan = published(
            [event(EventKind.CREATED)], PublishPolicy(), the_alert=spoof, for_alert=spoof
        )
        (call,) = plan.calls
        assert (call.name, call.body) == ("db down all fine", "see log\nnow")

    def test_templated_name_is_one_line(self):
        """A template that writes a newline into the name still yields one line."""
        plan = published([event(EventKind.CREATED)], policy({"name": "a\n{{ alert.id }}\u2029b"}))
        (call,) = plan.calls
        assert call.name == "a 7 b"


class TestPreview:
    def test_preview_renders_each_write_of_a_sample_alert(self):
        """check's preview shows the create, the comment and the status changes as published."""
        pol = policy(
            {"name": "Checkout degraded", "resolved": "Resolved."},
            comments="marked",
            redact=(re.compile(r"db-\d+"),),
        )
        lines = preview_writes(pol, lifecycle="realtime", context=CONTEXT, source_id=101)
        texts = [line.text for line in lines]
        assert all(line.ok for line in lines)
        assert texts[0].startswith('preview public-api: created: create, name "Checkout degraded"')
        assert "[redacted]" in texts[1] and "#public" not in texts[1] and "&amp;" not in texts[1]
        assert texts[-1].endswith('status resolved, body "Resolved.", notify yes')

    def test_preview_reports_a_render_error(self):
        """A template failing on the sample alert gives a failed line, not a crash."""
        pol = policy({"created": "{{ alert.details / 3 }}"})
        lines = preview_writes(pol, lifecycle="classic", context=CONTEXT, source_id=None)
        assert not lines[0].ok
        assert "templates.created" in lines[0].text


class TestConfig:
    def _action(self, **keys: Any) -> dict[str, Any]:
        data = minimal_settings()
        data["incident_actions"][0].update(keys)
        return data

    def test_absent_keys_are_todays_behaviour(self):
        """An action without any of the keys has the default policy."""
        (action,) = parse_config(minimal_settings(), ENV).incident_actions
        assert action.publish == PublishPolicy()
        assert action.publish.is_default

    def test_all_keys_are_read(self):
        """Every key of the documented example is read into the policy."""
        data = self._action(
            min_priority="HIGH",
            include="api",
            exclude="test",
            publish_after=120,
            notify=["resolved"],
            comments="marked",
            comment_marker="[pub]",
            redact=[r"\d+"],
            statuses={"accepted": "monitoring", "escalated": "unchanged"},
            templates={"name": "{{ alert.summary }}!", "accepted": "Working on it."},
        )
        (action,) = parse_config(data, ENV).incident_actions
        pub = action.publish
        assert (pub.min_priority, pub.publish_after, pub.comments) == ("HIGH", 120.0, "marked")
        assert pub.include is not None and pub.include.pattern == "api"
        assert pub.notify == frozenset({"resolved"})
        assert pub.statuses == {"accepted": "monitoring", "escalated": "unchanged"}
        assert pub.templates.customised == ("name", "accepted")
        assert not pub.is_default

    @pytest.mark.parametrize(
        ("keys", "fragment"),
        [
            ({"min_priority": "MEDIUM"}, "incident_actions[0].min_priority: 'MEDIUM'"),
            ({"include": "(unclosed"}, "incident_actions[0].include: invalid regular expression"),
            ({"redact": ["ok", "[bad"]}, "incident_actions[0].redact[1]: invalid regular"),
            ({"redact": [""]}, "incident_actions[0].redact[0]: an empty pattern"),
            ({"publish_after": -1}, "incident_actions[0].publish_after: must be a number"),
            ({"publish_after": float("nan")}, "incident_actions[0].publish_after: must be"),
            ({"publish_after": float("inf")}, "incident_actions[0].publish_after: must be"),
            ({"publish_after": 1e300}, "incident_actions[0].publish_after: must be"),
            ({"publish_after": 604801}, "incident_actions[0].publish_after: must be"),
            ({"notify": ["created", "paged"]}, "incident_actions[0].notify: unknown write kind"),
            ({"comments": "some"}, "incident_actions[0].comments: 'some' is not one of"),
            ({"comment_marker": "\u200b\u2060"}, "incident_actions[0].comment_marker: must be"),
            (
                {"statuses": {"accepted": "in_progress"}},
                "incident_actions[0].statuses.accepted: 'in_progress' is not a realtime",
            ),
            ({"statuses": {"acked": "monitoring"}}, "incident_actions[0].statuses.acked: unknown"),
            ({"templates": {"title": "x"}}, "incident_actions[0].templates.title: unknown"),
            (
                {"templates": {"name": "{{ alert.nme }}"}},
                "incident_actions[0].templates.name: template line 1: unknown variable",
            ),
        ],
    )
    def test_bad_values_are_config_errors_naming_the_key(self, keys, fragment):
        """Each bad setting is refused at load, naming the file and the dotted key."""
        with pytest.raises(ConfigError) as caught:
            parse_config(self._action(**keys), ENV, origin=ORIGIN)
        assert str(caught.value).startswith(f"{ORIGIN}: ")
        assert fragment in str(caught.value)
