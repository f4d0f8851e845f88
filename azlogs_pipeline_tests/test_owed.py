"""What an interrupted `azlogs run` leaves to the next one: reports of days and an alert pass."""

from __future__ import annotations

from pathlib import Path

from azlogs_pipeline.lake.paths import owed_reports_file
from azlogs_pipeline.owed import Owed, add_owed, read_owed, settle


def test_owed_work_adds_up_and_is_crossed_off_as_it_succeeds(tmp_path: Path) -> None:
    assert read_owed(tmp_path) == Owed()
    assert add_owed(tmp_path, ["2026-11-21", "2026-11-20"], alerts=False) == Owed(
        ("2026-11-20", "2026-11-21"), False
    )
    assert add_owed(tmp_path, ["2026-11-21"], alerts=True) == Owed(
        ("2026-11-20", "2026-11-21"), True
    )
    assert settle(tmp_path, ["2026-11-20"], alerts_done=False) == Owed(("2026-11-21",), True)
    assert read_owed(tmp_path) == Owed(("2026-11-21",), True), "kept for the next run"
    assert settle(tmp_path, ["2026-11-21"], alerts_done=True) == Owed()
    assert not owed_reports_file(tmp_path).exists(), "nothing owed: no file"


def test_an_unreadable_record_owes_nothing_and_is_replaced(tmp_path: Path) -> None:
    path = owed_reports_file(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text('{"days": 3')
    assert read_owed(tmp_path) == Owed()
    assert add_owed(tmp_path, ["2026-11-20"], alerts=True) == Owed(("2026-11-20",), True)
    assert read_owed(tmp_path) == Owed(("2026-11-20",), True)
