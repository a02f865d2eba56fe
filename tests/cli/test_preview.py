"""``preview ALERT_ID`` end to end: the console script against the simulators over loopback.

It reads one alert and its timeline from iLert and prints what each incident action
would publish; it opens no database and sends Statuspage nothing.
"""

from __future__ import annotations

import re

from ilert_statuspage_sync.simulators import IlertSimulator, StatuspageSimulator
from tests.support.cli import (  # noqa: F401 - fixtures
    CANARY_ILERT_KEY,
    Cli,
    activated_fixture,
    canary_ilert_fixture,
    canary_statuspage_fixture,
    cli_fixture,
)
from tests.support.world import AUTO_SOURCE, MANUAL_SOURCE


def _state_files(cli: Cli) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(cli.folder.glob("state.db*"))}


def test_preview_prints_name_body_comments_and_the_status_sequence(
    cli: Cli, ilert: IlertSimulator
) -> None:
    """The incident name, the created body, each comment and the statuses in order are shown."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Checkout API down", "5xx on /checkout")
    ilert.comment(alert_id, "Rolling back the 09:12 deploy")
    ilert.accept(alert_id)
    ilert.resolve(alert_id)

    result = cli.run("preview", str(alert_id))

    assert result.code == 0, result.describe()
    out = result.stdout
    assert "incident action 'public-api'" in out
    assert 'name: "Checkout API down"' in out
    assert 'body: "5xx on /checkout"' in out
    assert 'body: "Rolling back the 09:12 deploy"' in out
    assert "status sequence: identified -> in_progress -> resolved" in out  # classic table
    assert "manual-review" not in out  # its sources do not hold this alert's


def test_preview_labels_the_raw_comment_fields_ilert_returned(
    cli: Cli, ilert: IlertSimulator
) -> None:
    """Each comment entry's text and vars fields are printed, labelled, with the one read."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Search slow")
    ilert.comment(alert_id, "p99 back under 2s")

    result = cli.run("preview", str(alert_id))

    assert result.code == 0, result.describe()
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert 'text: "p99 back under 2s"' in lines
    assert 'vars.comment: "p99 back under 2s"' in lines
    assert "read from: vars.comment" in lines


def test_preview_of_a_manual_action_says_the_trigger_publishes_it(
    cli: Cli, ilert: IlertSimulator
) -> None:
    """An alert of a manual action's source is previewed as its trigger would publish it."""
    alert_id = ilert.create_alert(MANUAL_SOURCE, "Partner feed late")

    result = cli.run("preview", str(alert_id))

    assert result.code == 0, result.describe()
    assert f"published only after `trigger manual-review {alert_id}`" in result.stdout
    assert 'name: "Partner feed late"' in result.stdout


def test_preview_writes_nothing(
    activated: Cli, ilert: IlertSimulator, statuspage: StatuspageSimulator
) -> None:
    """The state database is byte for byte unchanged and Statuspage gets zero requests."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Payments degraded", "card auth failing")
    ilert.comment(alert_id, "Failing over to the second acquirer")
    before = _state_files(activated)
    statuspage.clear_requests()

    result = activated.run("preview", str(alert_id))

    assert result.code == 0, result.describe()
    assert 'name: "Payments degraded"' in result.stdout
    assert statuspage.requests == []
    assert _state_files(activated) == before


def test_preview_opens_no_database(cli: Cli, ilert: IlertSimulator) -> None:
    """Without a state database, preview works and creates none."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Login errors")

    result = cli.run("preview", str(alert_id))

    assert result.code == 0, result.describe()
    assert not cli.db_path.exists()


def test_a_missing_alert_exits_2_with_one_line(cli: Cli, ilert: IlertSimulator) -> None:
    """An alert iLert answers 404 for exits 2 with one error line and prints nothing else."""
    result = cli.run("preview", "987654")

    assert result.code == 2, result.describe()
    assert result.stdout == ""
    assert result.said.splitlines() == [
        f"error: alert 987654 does not exist in iLert ({ilert.url}); "
        "check the id (the number in the alert's URL)"
    ]


def test_a_refused_ilert_key_exits_1_with_one_line(cli: Cli, ilert: IlertSimulator) -> None:
    """An iLert key the API refuses exits 1 with one line naming the key setting."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Disk filling up")
    cli.ilert_key_file.write_text("wrong-ilert-key-77c1\n", encoding="utf-8")

    result = cli.run("preview", str(alert_id))

    assert result.code == 1, result.describe()
    assert result.stdout == ""
    [line] = result.said.splitlines()
    assert line.startswith(f"error: iLert ({ilert.url}) refused the API key (HTTP 403)"), line
    assert line.endswith("check [ilert] api_key_file or api_key_env and the key's permissions")
    assert "wrong-ilert-key-77c1" not in result.output


def test_an_unreachable_ilert_exits_1_with_one_line(cli: Cli, ilert: IlertSimulator) -> None:
    """iLert refusing connections exits 1 with one line saying to try again."""
    alert_id = ilert.create_alert(AUTO_SOURCE, "Queue backlog")
    ilert.set_down("refuse")

    result = cli.run("preview", str(alert_id))

    assert result.code == 1, result.describe()
    [line] = result.said.splitlines()
    assert line.startswith(f"error: iLert ({ilert.url}) could not be read"), line
    assert line.endswith("try again later"), line


def test_a_key_split_by_invisible_characters_in_ilert_text_is_masked(
    cli: Cli, ilert: IlertSimulator
) -> None:
    """A key pasted into a summary or comment with zero-width spaces never reads whole."""
    pieces = [CANARY_ILERT_KEY[i : i + 6] for i in range(0, len(CANARY_ILERT_KEY), 6)]
    split = "\u200b".join(pieces)
    alert_id = ilert.create_alert(AUTO_SOURCE, f"key {split} leaked")
    ilert.comment(alert_id, f"rotated {split} just now")

    result = cli.run("preview", str(alert_id))

    assert result.code == 0, result.describe()
    seen = re.sub(r"\\u[0-9a-f]{4}", "", result.stdout)  # what a reader makes of the escapes
    assert CANARY_ILERT_KEY not in seen, result.stdout
    assert "********" in result.stdout
