"""The iLert simulator's write endpoints and Events API, spoken to over real HTTP.

Shapes from the iLert OpenAPI spec: `POST /api/alerts` takes a ManualAlert and answers
201 with the Alert; `PUT /api/alerts/{id}/accept|resolve` answer 200 with the Alert;
`POST /api/events` takes an Event without an API key (`security: []`) and answers 202.
"""

from __future__ import annotations

import http.client as http_client
from typing import Any
from urllib.parse import urlsplit

import requests

from ilert_statuspage_sync.simulators import IlertSimulator

TIMEOUT = 5.0
ILERT_AUTH = {"Authorization": "Bearer ilert-sim-key"}


def _post_alert(http: requests.Session, ilert: IlertSimulator, body: object) -> requests.Response:
    return http.post(f"{ilert.url}/api/alerts", json=body, headers=ILERT_AUTH, timeout=TIMEOUT)


def _put(
    http: requests.Session, ilert: IlertSimulator, alert_id: int, verb: str
) -> requests.Response:
    url = f"{ilert.url}/api/alerts/{alert_id}/{verb}"
    return http.put(url, headers=ILERT_AUTH, timeout=TIMEOUT)


def _event(http: requests.Session, ilert: IlertSimulator, **fields: Any) -> requests.Response:
    # No Authorization header: the Events API is keyed by the body's integrationKey.
    return http.post(f"{ilert.url}/api/events", json=fields, timeout=TIMEOUT)


def _types(ilert: IlertSimulator, alert_id: int) -> list[str]:
    return [entry["logEntryType"] for entry in reversed(ilert.log_entries(alert_id))]


class TestRestWrites:
    def test_post_alert_is_201_with_the_alert_and_a_created_by_user_entry(self, ilert, http):
        """A ManualAlert opens a PENDING alert, logged as created by the key's user."""
        source = ilert.add_alert_source("Checkout API")
        answer = _post_alert(
            http,
            ilert,
            {"summary": "Checkout slow", "details": "p99", "alertSource": {"id": source}},
        )
        assert answer.status_code == 201, answer.text
        alert = answer.json()
        assert alert == ilert.alert(alert["id"])
        assert (alert["summary"], alert["details"], alert["status"]) == (
            "Checkout slow",
            "p99",
            "PENDING",
        )
        assert (alert["alertSource"]["id"], alert["priority"]) == (source, "HIGH")
        assert _types(ilert, alert["id"]) == ["AlertCreatedByUserLogEntry"]

    def test_post_alert_refuses_a_bad_body_with_400(self, ilert, http):
        """No summary, an unknown source or a bad priority is a 400 in iLert's error shape."""
        source = ilert.add_alert_source("Checkout API")
        bodies = [
            {"alertSource": {"id": source}},
            {"summary": "x", "alertSource": {"id": 999}},
            {"summary": "x", "alertSource": {"id": source}, "priority": "URGENT"},
            ["not", "an", "object"],
        ]
        for body in bodies:
            answer = _post_alert(http, ilert, body)
            assert answer.status_code == 400, body
            assert answer.json()["code"] == "BAD_REQUEST"
        assert ilert.alerts_served == 0
        assert _alerts_count(http, ilert) == 0

    def test_writes_need_the_api_key(self, ilert, http):
        """POST /api/alerts and PUT accept without the Bearer key are 401, and change nothing."""
        source = ilert.add_alert_source("Checkout API")
        alert_id = ilert.create_alert(source, "open")
        body = {"summary": "x", "alertSource": {"id": source}}
        assert http.post(f"{ilert.url}/api/alerts", json=body, timeout=TIMEOUT).status_code == 401
        url = f"{ilert.url}/api/alerts/{alert_id}/accept"
        assert http.put(url, timeout=TIMEOUT).status_code == 401
        assert ilert.alert(alert_id)["status"] == "PENDING"

    def test_accept_then_resolve_answer_200_with_the_updated_alert(self, ilert, http):
        """accept and resolve change the status; repeating either changes nothing."""
        alert_id = ilert.create_alert(ilert.add_alert_source("Checkout API"), "open")

        accepted = _put(http, ilert, alert_id, "accept")
        assert accepted.status_code == 200
        assert accepted.json()["status"] == "ACCEPTED"
        assert _put(http, ilert, alert_id, "accept").json() == accepted.json()
        resolved = _put(http, ilert, alert_id, "resolve")
        assert resolved.status_code == 200
        assert resolved.json()["status"] == "RESOLVED"
        assert resolved.json()["resolvedOn"] is not None
        assert _put(http, ilert, alert_id, "resolve").json() == resolved.json()
        assert _types(ilert, alert_id) == [
            "AlertReceivedLogEntry",
            "UserResponseLogEntry",
            "UserResponseLogEntry",
        ]

    def test_accepting_a_resolved_or_unknown_alert_is_refused(self, ilert, http):
        """A resolved alert cannot be accepted (400); an unknown id is 404; other verbs 405."""
        alert_id = ilert.create_alert(ilert.add_alert_source("Checkout API"), "open")
        ilert.resolve(alert_id)

        assert _put(http, ilert, alert_id, "accept").status_code == 400
        assert _put(http, ilert, 12345, "resolve").status_code == 404
        assert _put(http, ilert, alert_id, "reopen").status_code == 405
        assert ilert.alert(alert_id)["status"] == "RESOLVED"


def _alerts_count(http: requests.Session, ilert: IlertSimulator) -> int:
    answer = http.get(f"{ilert.url}/api/alerts/count", headers=ILERT_AUTH, timeout=TIMEOUT)
    count: int = answer.json()["count"]
    return count


class TestEvents:
    def test_the_specs_worked_example_creates_dedups_accepts_and_resolves(self, ilert, http):
        """ALERT, ALERT with the same key, ACCEPT, RESOLVE: one alert, 202 each, no API key."""
        source = ilert.add_alert_source("Mail", integration_key="edf0235f-a720")
        key = {"integrationKey": "edf0235f-a720", "alertKey": "srv/mail01"}

        first = _event(http, ilert, eventType="ALERT", summary="Host srv/mail01 is CRITICAL", **key)
        again = _event(http, ilert, eventType="ALERT", summary="Host srv/mail01 is DOWN", **key)
        assert (first.status_code, again.status_code) == (202, 202)
        assert first.content == b""
        assert _alerts_count(http, ilert) == 1
        alert = ilert.alert(1)
        assert (alert["alertSource"]["id"], alert["alertKey"]) == (source, "srv/mail01")
        assert alert["summary"] == "Host srv/mail01 is CRITICAL"

        assert _event(http, ilert, eventType="ACCEPT", **key).status_code == 202
        assert ilert.alert(1)["status"] == "ACCEPTED"
        assert _event(http, ilert, eventType="RESOLVE", **key).status_code == 202
        assert ilert.alert(1)["status"] == "RESOLVED"
        assert _types(ilert, 1) == [
            "AlertReceivedLogEntry",
            "AlertReceivedLogEntry",
            "UserResponseLogEntry",
            "UserResponseLogEntry",
        ]

    def test_alert_key_matches_without_case_and_only_open_alerts(self, ilert, http):
        """The key matches ignoring case; after a resolve the same key opens a new alert."""
        ilert.add_alert_source("Mail", integration_key="int-1")
        key = {"integrationKey": "int-1"}
        _event(http, ilert, eventType="ALERT", summary="down", alertKey="SRV/Mail01", **key)
        _event(http, ilert, eventType="ALERT", summary="down", alertKey="srv/mail01", **key)
        assert _alerts_count(http, ilert) == 1
        _event(http, ilert, eventType="RESOLVE", alertKey="srv/MAIL01", **key)
        _event(http, ilert, eventType="ALERT", summary="down again", alertKey="srv/mail01", **key)
        assert _alerts_count(http, ilert) == 2
        assert [ilert.alert(i)["status"] for i in (1, 2)] == ["RESOLVED", "PENDING"]

    def test_legacy_incident_key_and_no_key(self, ilert, http):
        """`incidentKey` is read as the alertKey; ALERT events without any key never dedup."""
        ilert.add_alert_source("Mail", integration_key="int-1")
        key = {"integrationKey": "int-1"}
        _event(http, ilert, eventType="ALERT", summary="a", incidentKey="legacy", **key)
        _event(http, ilert, eventType="ALERT", summary="a", alertKey="legacy", **key)
        _event(http, ilert, eventType="ALERT", summary="b", **key)
        _event(http, ilert, eventType="ALERT", summary="b", **key)
        assert _alerts_count(http, ilert) == 3

    def test_comment_event_adds_a_comment_entry_by_its_creator(self, ilert, http):
        """COMMENT appends each {creator, content} as an AlertCommentAddedLogEntry."""
        ilert.add_alert_source("Mail", integration_key="int-1")
        key = {"integrationKey": "int-1", "alertKey": "k1"}
        _event(http, ilert, eventType="ALERT", summary="down", **key)
        comment = {"creator": "Grace", "content": "Rolling back the deploy"}
        answer = _event(http, ilert, eventType="COMMENT", comments=[comment], **key)

        assert answer.status_code == 202
        newest = ilert.log_entries(1)[0]
        assert newest["logEntryType"] == "AlertCommentAddedLogEntry"
        assert newest["text"] == "Rolling back the deploy"
        assert newest["vars"] == {"comment": "Rolling back the deploy", "author": "Grace"}

    def test_events_for_no_open_alert_are_accepted_and_change_nothing(self, ilert, http):
        """ACCEPT, RESOLVE or COMMENT naming no open alert of the source: 202, nothing changes."""
        ilert.add_alert_source("Mail", integration_key="int-1")
        other = ilert.add_alert_source("Other", integration_key="int-2")
        ilert.create_alert(other, "other's", alert_key="k1")
        key = {"integrationKey": "int-1", "alertKey": "k1"}
        comments = [{"content": "hello"}]
        for event_type in ("ACCEPT", "RESOLVE", "COMMENT"):
            answer = _event(http, ilert, eventType=event_type, comments=comments, **key)
            assert answer.status_code == 202, event_type
        assert ilert.alert(1)["status"] == "PENDING"
        assert _types(ilert, 1) == ["AlertReceivedLogEntry"]

    def test_malformed_events_are_400(self, ilert, http):
        """An unknown key or event type, a missing summary, alertKey or comment: 400, no alert."""
        ilert.add_alert_source("Mail", integration_key="int-1")
        events: list[dict[str, Any]] = [
            {"integrationKey": "nope", "eventType": "ALERT", "summary": "x"},
            {"integrationKey": "int-1", "eventType": "TRIGGER", "summary": "x"},
            {"integrationKey": "int-1", "eventType": "ALERT"},
            {"integrationKey": "int-1", "eventType": "ACCEPT"},
            {"integrationKey": "int-1", "eventType": "COMMENT", "alertKey": "k", "comments": []},
            {"eventType": "ALERT", "summary": "x"},
        ]
        for event in events:
            answer = _event(http, ilert, **event)
            assert answer.status_code == 400, event
            assert answer.json()["status"] == 400
        assert _alerts_count(http, ilert) == 0

    def test_a_list_or_an_object_where_a_name_belongs_is_400_not_500(self, ilert, http):
        """An eventType or priority given as a JSON list or object is a 400, never a 500."""
        source = ilert.add_alert_source("Mail", integration_key="int-1")
        events: list[dict[str, Any]] = [
            {"integrationKey": "int-1", "eventType": ["ALERT"], "summary": "x"},
            {"integrationKey": "int-1", "eventType": {"ALERT": 1}, "summary": "x"},
            {"integrationKey": "int-1", "eventType": "ALERT", "summary": "x", "priority": ["LOW"]},
            {"integrationKey": "int-1", "eventType": "ALERT", "summary": "x", "priority": {}},
        ]
        answers = [_event(http, ilert, **event) for event in events]
        answers.append(
            _post_alert(
                http, ilert, {"summary": "x", "alertSource": {"id": source}, "priority": []}
            )
        )
        assert [answer.status_code for answer in answers] == [400] * 5, [a.text for a in answers]
        assert _alerts_count(http, ilert) == 0

    def test_a_body_too_deep_or_a_bad_length_is_400_not_a_dropped_connection(self, ilert, http):
        """JSON nested past the parser's depth, or a Content-Length that is no number: 400."""
        deep = http.post(f"{ilert.url}/api/events", data="[" * 100_000, timeout=TIMEOUT)
        assert deep.status_code == 400, deep.text
        assert deep.json()["code"] == "BAD_REQUEST"
        host, port = urlsplit(ilert.url).hostname, urlsplit(ilert.url).port
        connection = http_client.HTTPConnection(host or "", port, timeout=TIMEOUT)
        try:
            connection.putrequest("POST", "/api/events")
            connection.putheader("Content-Length", "abc")
            connection.endheaders()
            assert connection.getresponse().status == 400
        finally:
            connection.close()

    def test_sources_serve_their_integration_key(self, ilert, http):
        """GET /api/alert-sources/{id} carries the integrationKey the Events API takes."""
        source = ilert.add_alert_source("Mail")
        answer = http.get(
            f"{ilert.url}/api/alert-sources/{source}", headers=ILERT_AUTH, timeout=TIMEOUT
        )
        assert answer.json()["integrationKey"] == f"sim-integration-{source}"
