"""The SQLite leader lock: a deleted or replaced lock file is not a lock any more."""

from __future__ import annotations

from pathlib import Path

import pytest
from structlog.testing import capture_logs

from ilert_statuspage_sync.service.leadership import FileLeadership, SqliteLeadership


def test_a_deleted_lock_file_loses_the_lead_to_the_process_that_locks_the_new_one(
    tmp_path: Path,
):
    """After `rm state.db.lock` a second process locks a new file: the first no longer leads
    and cannot take the lead back while the second holds it."""
    first, second = FileLeadership(tmp_path / "state.db"), FileLeadership(tmp_path / "state.db")
    try:
        assert first.try_acquire() and first.holds()
        assert not second.try_acquire()
        first.path.unlink()
        assert not first.holds()
        assert second.try_acquire() and second.holds()
        assert not first.try_acquire()
        second.release()
        assert first.try_acquire() and first.holds()
    finally:
        first.release()
        second.release()


def test_a_replaced_lock_file_is_not_held(tmp_path: Path):
    """A lock file moved over by another file (same path, other inode) is not ours."""
    leadership = FileLeadership(tmp_path / "state.db")
    try:
        assert leadership.try_acquire()
        other = tmp_path / "other"
        other.write_text("1\n")
        other.replace(leadership.path)
        assert not leadership.holds()
    finally:
        leadership.release()


def test_the_sqlite_lead_survives_a_deleted_lock_file(tmp_path: Path):
    """`rm state.db.lock` frees nothing: the database file's own lock keeps a second process
    out, and the first still leads."""
    first, second = SqliteLeadership(tmp_path / "state.db"), SqliteLeadership(tmp_path / "state.db")
    try:
        assert first.try_acquire()
        first.path.unlink()
        assert not second.try_acquire()
        assert first.holds()
        first.release()
        assert second.try_acquire() and second.holds()
    finally:
        first.release()
        second.release()


def test_a_replaced_database_file_is_not_held(tmp_path: Path):
    """A database file moved over by another (a restore under a running process) is not ours."""
    leadership = SqliteLeadership(tmp_path / "state.db")
    try:
        assert leadership.try_acquire()
        other = tmp_path / "other.db"
        other.write_bytes(b"")
        other.replace(tmp_path / "state.db")
        assert not leadership.holds()
    finally:
        leadership.release()


def test_a_deleted_lock_file_is_locked_again_before_a_previous_version_starts(tmp_path: Path):
    """`rm state.db.lock` under the SQLite leader: its next check locks a new lock file, so a
    previous version (which locks only that file) cannot lead beside it."""
    leader = SqliteLeadership(tmp_path / "state.db")
    previous_version = FileLeadership(tmp_path / "state.db")
    try:
        assert leader.try_acquire()
        leader.path.unlink()
        assert leader.holds()
        assert leader.path.exists()
        assert not previous_version.try_acquire()
    finally:
        previous_version.release()
        leader.release()


def test_the_sqlite_leader_steps_down_when_a_previous_version_took_the_new_lock_file(
    tmp_path: Path,
):
    """A previous version that locked a new `state.db.lock` before the leader's next check:
    the leader no longer holds the lead (it stops writing, said in one line), so one process
    writes; once the previous version is gone, it leads again."""
    leader = SqliteLeadership(tmp_path / "state.db")
    previous_version = FileLeadership(tmp_path / "state.db")
    try:
        assert leader.try_acquire()
        leader.path.unlink()
        assert previous_version.try_acquire()
        with capture_logs() as logs:
            assert not leader.holds()
            assert not leader.holds()
            assert not leader.try_acquire()
        assert [line["event"] for line in logs] == ["leader_lock_file_taken"]
        previous_version.release()
        assert leader.try_acquire() and leader.holds()
    finally:
        previous_version.release()
        leader.release()


def test_a_deleted_lock_file_that_cannot_be_created_again_keeps_the_lead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """`state.db.lock` deleted and a new one refused (a read-only folder: simulated, the tests
    run as root): the leader's check raises nothing, keeps the lead (the database file's lock
    still holds) and says so once."""
    leader = SqliteLeadership(tmp_path / "state.db")
    try:
        assert leader.try_acquire()
        leader.path.unlink()

        def refused(**_: object) -> bool:
            raise PermissionError(13, "Permission denied", str(leader.path))

        monkeypatch.setattr(leader.pid_file, "try_acquire", refused)
        with capture_logs() as logs:
            assert leader.holds()
            assert leader.holds()
        assert [line["event"] for line in logs] == ["leader_lock_file_uncreatable"]
    finally:
        leader.release()
