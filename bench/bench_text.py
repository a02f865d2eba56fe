"""Benchmark: CPU time of the public-text path for vendor texts of any size and shape.

Each 10 MB text (summary, details and comment alike) goes the whole pure path of
one alert: parsed as iLert JSON values, the comment screened under each comment
policy (``all``, ``marked``, ``none``), the plan rendered with the default
templates, a redact pattern, normalised and clipped. Prints CPU seconds
(``time.process_time``) per shape and policy, then the markup converter alone on
growing unclosed-tag input next to the standard library's ``html.parser`` (the
previous converter): quadratic there, linear here. Usage:
python bench/bench_text.py [MEGABYTES]
"""

from __future__ import annotations

import re
import sys
import time
from datetime import UTC, datetime
from html.parser import HTMLParser

from ilert_statuspage_sync.core.markup import plain_text
from ilert_statuspage_sync.core.model import Event, EventKind, Mirror
from ilert_statuspage_sync.core.parse import parse_alert, parse_log_entry
from ilert_statuspage_sync.core.plan import plan_calls
from ilert_statuspage_sync.core.policy import PublishPolicy
from ilert_statuspage_sync.core.publish import PublishContext, publish_plan, screen_comments

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
CONTEXT = PublishContext("public-api", "page1", "https://api.ilert.com")
SHAPES = {
    "unclosed tags (<a<a...)": "<a",
    "plain text": "x",
    "open comment + tags": "<b>",
    "entities (&amp;)": "&amp;",
    "zero-width spaces": "\u200b",
    "NFKC x18 (U+FDFA)": "\ufdfa",
    "hidden secrets (db\\u200b-7)": "db\u200b-7 ",
}


def _text(unit: str, size: int) -> str:
    text = unit * (size // len(unit))
    return "<!--" + text if unit == "<b>" else text


def publish_cpu(text: str, comments: str) -> float:
    """CPU seconds for one alert whose summary, details and comment are ``text``."""
    policy = PublishPolicy(comments=comments, redact=(re.compile(r"db-\d+"),))
    start = time.process_time()
    alert = parse_alert(
        {"id": 5, "status": "PENDING", "reportTime": "2026-11-28T09:00:00Z"}
        | {"summary": text, "details": text}
    )
    entry = parse_log_entry(
        {"id": 9, "timestamp": "2026-11-28T09:01:00Z"}
        | {"logEntryType": "AlertCommentAddedLogEntry", "text": text},
        alert.id,
    )
    mirror = Mirror("PENDING", "HIGH")
    events = [
        Event(EventKind.CREATED, T0, mirror),
        Event(EventKind.COMMENT_ADDED, entry.timestamp, mirror, entry.comment, entry.id),
    ]
    plan = plan_calls(
        screen_comments(events, policy), alert, lifecycle="classic", current_status=None
    )
    publish_plan(plan, alert, policy, CONTEXT)
    return time.process_time() - start


class _Previous(HTMLParser):
    """The previous converter's parsing work: ``html.parser`` with character references."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)


def previous_cpu(size: int) -> float:
    """CPU seconds of html.parser on ``size`` characters of ``<a``."""
    parser = _Previous()
    start = time.process_time()
    parser.feed("<a" * (size // 2))
    parser.close()
    return time.process_time() - start


def converter_cpu(size: int) -> float:
    """CPU seconds of ``plain_text`` on ``size`` characters of ``<a``."""
    text = "<a" * (size // 2)
    start = time.process_time()
    plain_text(text)
    return time.process_time() - start


def main() -> None:
    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    size = int(megabytes * 1_000_000)
    print(f"{megabytes:g} MB summary + details + comment, one alert, CPU seconds:")
    print(f"{'shape':<30} {'all':>7} {'marked':>7} {'none':>7}")
    worst = 0.0
    for name, unit in SHAPES.items():
        text = _text(unit, size)
        cpu = [publish_cpu(text, comments) for comments in ("all", "marked", "none")]
        worst = max(worst, *cpu)
        print(f"{name:<30} " + " ".join(f"{seconds:>7.3f}" for seconds in cpu))
    print(f"worst: {worst:.3f} s")
    print("\nunclosed tags (<a<a...), converter alone, CPU seconds:")
    print(f"{'characters':>10} {'html.parser':>12} {'plain_text':>11}")
    for chars in (10_000, 20_000, 40_000, 100_000, 1_000_000, 10_000_000):
        # html.parser past 40,000: 200,000 took 80 s; 10 million would take days.
        previous = f"{previous_cpu(chars):.3f}" if chars <= 40_000 else "-"
        print(f"{chars:>10,} {previous:>12} {converter_cpu(chars):>11.4f}")


if __name__ == "__main__":
    main()
