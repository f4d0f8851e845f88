"""Alert delivery through Dagster to a webhook on loopback: once per finding across builds,
rebuilds and restarts; retried through failures; a dead endpoint never fails a run; the URL's token
nowhere; backfills and bursts as one digest."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from azlogs_pipeline.alerts import deliver_alerts, delivery_counts
from azlogs_pipeline.alerts.findings import findings_source
from azlogs_pipeline.alerts.status import status_lines
from azlogs_pipeline.assets.alerts import CHECK_ALL_DELIVERED, alert_deliveries
from azlogs_pipeline.assets.summarize import SUMMARY_ASSETS_BY_NAME
from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.config import load_alert_settings
from azlogs_pipeline.lake.paths import alert_state_dir, hour_start
from azlogs_pipeline.lake.read_only import connect_read_only
from azlogs_pipeline.local.processes import free_port
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.summarize import build_summary
from azlogs_pipeline_tests.alerts.webhook_server import TOKEN, webhook_receiver
from azlogs_pipeline_tests.summarize.generated_lake import GeneratedLake, land_generated

pytestmark = (
    pytest.mark.integration
)  # a webhook receiver, Dagster instances that execute runs, a restarted process

DETECTIONS = SUMMARY_ASSETS_BY_NAME["signin_detections"]


def _build_detections(lake: GeneratedLake) -> None:
    for hour in lake.hours:
        build_summary(lake.data_dir, "signin_detections", hour)
    refresh_catalog(lake.data_dir)


@pytest.fixture(scope="module")
def recent_lake(tmp_path_factory: pytest.TempPathFactory) -> GeneratedLake:
    """A generated day ending this hour (its findings are fresh), detections built."""
    start = hour_start(datetime.now(UTC)) - timedelta(hours=23)
    lake = land_generated(tmp_path_factory.mktemp("recent-lake"), start=start)
    _build_detections(lake)
    return lake


def _fresh_state(lake: GeneratedLake) -> Path:
    shutil.rmtree(alert_state_dir(lake.data_dir), ignore_errors=True)
    return lake.data_dir


def _expected(data_dir: Path, severities: tuple[str, ...] = ("medium", "high")) -> set[str]:
    with connect_read_only(data_dir) as con:
        rows = con.execute(
            f"SELECT detection_id FROM {findings_source()} WHERE list_contains($s, severity)",
            {"s": list(severities)},
        ).fetchall()
    return {row[0] for row in rows}


def _deliver(instance: dg.DagsterInstance, data_dir: Path) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [alert_deliveries],
        instance=instance,
        resources={"azlogs": AzlogsSettings(data_dir=str(data_dir))},
    )
    assert result.success, "a delivery pass never fails its run"
    return result


def _metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    [event] = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == CHECK_ALL_DELIVERED
    return evaluation


RESTART = textwrap.dedent(
    """
    import sys
    import dagster as dg
    from azlogs_pipeline.assets.alerts import alert_deliveries
    from azlogs_pipeline.resources import AzlogsSettings

    with dg.DagsterInstance.from_config(sys.argv[1]) as instance:
        result = dg.materialize(
            [alert_deliveries], instance=instance,
            resources={"azlogs": AzlogsSettings(data_dir=sys.argv[2])},
        )
    print("restart pass ok" if result.success else "restart pass FAILED")
    """
)


def _no_token_anywhere(*roots: Path, outputs: tuple[str, ...] = ()) -> None:
    for text in outputs:
        assert TOKEN not in text
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file():
                assert TOKEN.encode() not in path.read_bytes(), path


def test_each_finding_is_posted_once_across_build_rebuild_and_restart(
    recent_lake: GeneratedLake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    data_dir = _fresh_state(recent_lake)
    expected = _expected(data_dir)
    assert len(expected) >= 3, "the generated scenarios give medium and high findings"
    home = tmp_path / "dagster"
    home.mkdir()
    with webhook_receiver() as receiver:
        monkeypatch.setenv("AZLOGS_ALERT_WEBHOOK_URL", receiver.url)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            first = _deliver(instance, data_dir)
            assert sorted(receiver.accepted_ids()) == sorted(expected)
            # Rebuild hours with findings through Dagster, then deliver again: nothing resent.
            with connect_read_only(data_dir) as con:
                hours = [
                    row[0]
                    for row in con.execute(
                        f"SELECT DISTINCT hour FROM {findings_source()} ORDER BY 1"
                    ).fetchall()
                ]
            # The summary asset loads every setting; these point at nothing and are not used.
            monkeypatch.setenv("AZLOGS_EVENTHUB_NAME", "adlogs")
            monkeypatch.setenv(
                "AZLOGS_EVENTHUB_CONNECTION_STRING",
                "Endpoint=sb://localhost/;SharedAccessKeyName=n;SharedAccessKey=k",
            )
            monkeypatch.setenv("AZLOGS_STORAGE_CONNECTION_STRING", "UseDevelopmentStorage=true")
            for hour in hours[:3]:
                assert dg.materialize(
                    [DETECTIONS],
                    partition_key=f"{hour.astimezone(UTC):%Y-%m-%d-%H:00}",
                    instance=instance,
                    resources={"azlogs": AzlogsSettings(data_dir=str(data_dir))},
                ).success
            second = _deliver(instance, data_dir)
        restart = subprocess.run(
            [sys.executable, "-c", RESTART, str(home), str(data_dir)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert "restart pass ok" in restart.stdout, restart.stderr[-2000:]

        assert len(receiver.requests) == len(expected), "one POST per finding, nothing more"
        assert sorted(receiver.accepted_ids()) == sorted(expected)
        for payload in receiver.accepted:
            assert payload["text"].startswith(f"azlogs [{payload['severity'].upper()}] ")
            assert payload["detection"] in payload["text"]
            assert {"entity", "window_start", "window_end", "description"} <= payload.keys()
    assert _metadata(first)["posted"] == len(expected)
    assert _metadata(first)["undelivered"] == 0
    assert _check(first).passed
    assert _metadata(second)["new_findings"] == 0 and _metadata(second)["posted"] == 0
    assert delivery_counts(data_dir).delivered == len(expected)  # type: ignore[union-attr]
    captured = capfd.readouterr()
    _no_token_anywhere(
        home, data_dir, outputs=(captured.out, captured.err, restart.stdout, restart.stderr)
    )


def test_a_server_failing_twice_then_succeeding_gets_the_finding_once(
    recent_lake: GeneratedLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = _fresh_state(recent_lake)
    expected = _expected(data_dir)
    with webhook_receiver(fail_first=2) as receiver:
        monkeypatch.setenv("AZLOGS_ALERT_WEBHOOK_URL", receiver.url)
        with dg.DagsterInstance.ephemeral() as instance:
            result = _deliver(instance, data_dir)
    assert len(receiver.requests) == len(expected) + 2, "two failed tries, then each once"
    assert sorted(receiver.accepted_ids()) == sorted(expected)
    assert _metadata(result)["undelivered"] == 0 and _metadata(result)["failed_this_pass"] == 0


def test_a_dead_server_never_fails_a_run_and_shows_undelivered(
    recent_lake: GeneratedLake,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    data_dir = _fresh_state(recent_lake)
    expected = _expected(data_dir)
    dead = f"http://127.0.0.1:{free_port()}/webhook/{TOKEN}"
    monkeypatch.setenv("AZLOGS_ALERT_WEBHOOK_URL", dead)
    home = tmp_path / "dagster"
    home.mkdir()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        result = _deliver(instance, data_dir)
    metadata = _metadata(result)
    assert metadata["undelivered"] == len(expected)
    assert metadata["errors"] == "connection refused"
    assert metadata["failed_this_pass"] == 1, "the pass stops at the first unreachable post"
    check = _check(result)
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    [line] = status_lines(data_dir, load_alert_settings())
    assert f"undelivered {len(expected)}" in line and "connection refused" in line

    # The endpoint comes back: the next pass delivers what was pending, once.
    with webhook_receiver() as receiver:
        monkeypatch.setenv("AZLOGS_ALERT_WEBHOOK_URL", receiver.url)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            again = _deliver(instance, data_dir)
    assert sorted(receiver.accepted_ids()) == sorted(expected)
    assert _metadata(again)["undelivered"] == 0 and _check(again).passed
    captured = capfd.readouterr()
    _no_token_anywhere(home, data_dir, outputs=(captured.out, captured.err, line))


def test_a_backfill_of_old_hours_sends_one_digest(
    recent_lake: GeneratedLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Delivered for the first time a month after they happened, as after a backfill."""
    data_dir = _fresh_state(recent_lake)
    expected = _expected(data_dir)
    month_later = datetime.now(UTC) + timedelta(days=30)
    with webhook_receiver() as receiver:
        monkeypatch.setenv("AZLOGS_ALERT_WEBHOOK_URL", receiver.url)
        first = deliver_alerts(data_dir, load_alert_settings(), now=month_later)
        second = deliver_alerts(data_dir, load_alert_settings(), now=month_later)
    [digest] = receiver.requests
    assert digest["kind"] == "digest" and digest["findings"] == len(expected)
    assert sorted(digest["detection_ids"]) == sorted(expected)
    assert digest["text"].startswith(f"azlogs digest: {len(expected)} findings from ")
    assert first.digests == 1 and first.digested == len(expected) and first.posted == 0
    assert second.new == 0 and second.digests == 0 and second.counts.pending == 0


def test_a_burst_over_max_posts_is_one_digest_and_min_severity_filters(
    recent_lake: GeneratedLake, monkeypatch: pytest.MonkeyPatch
) -> None:
    data_dir = _fresh_state(recent_lake)
    high = _expected(data_dir, ("high",))
    with webhook_receiver() as receiver:
        monkeypatch.setenv("AZLOGS_ALERT_WEBHOOK_URL", receiver.url)
        monkeypatch.setenv("AZLOGS_ALERT_MIN_SEVERITY", "high")
        monkeypatch.setenv("AZLOGS_ALERT_MAX_POSTS", str(len(high) - 1))
        result = deliver_alerts(data_dir, load_alert_settings())
    [digest] = receiver.requests
    assert sorted(digest["detection_ids"]) == sorted(high)
    assert result.digested == len(high) and result.findings == len(high)
