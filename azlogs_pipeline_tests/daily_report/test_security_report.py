"""The daily security report: built as a Dagster asset and by `azlogs report`, opened in headless
Chromium with no network, its charts drawn with data and the generated scenarios' findings on it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest

from azlogs_pipeline.assets.reports import CHECK_SELF_CONTAINED, security_report
from azlogs_pipeline.catalog import refresh_catalog
from azlogs_pipeline.daily_report.check import external_references
from azlogs_pipeline.resources import AzlogsSettings
from azlogs_pipeline.summarize import SummaryResult, build_summary
from azlogs_pipeline.summarize.specs import DETECTION_FAMILIES
from azlogs_pipeline_tests.dagster_service.test_ui_browser import ARTIFACTS, PNG_SIGNATURE, chromium
from azlogs_pipeline_tests.summarize.generated_lake import START, GeneratedLake

DAY = f"{START:%Y-%m-%d}"
CHARTS = (
    "signins_per_hour",
    "failures_by_error_code",
    "failures_by_country",
    "detections_timeline",
    "records_per_hour",
)
OFFLINE = (
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
)
"""No name resolves and every request goes to a dead proxy: the page has no network at all."""


@pytest.fixture(scope="module")
def report_lake(
    generated_lake: GeneratedLake, built_summaries: Mapping[str, list[SummaryResult]]
) -> GeneratedLake:
    """The shared generated day with what the report reads: sign-in summaries and every detection
    family of every hour, the risk tables, and top_risky_users of the day's last hour."""
    for name in ("signin_summary", *DETECTION_FAMILIES):
        built_summaries[name]
    build_summary(generated_lake.data_dir, "top_risky_users", START + timedelta(hours=23))
    refresh_catalog(generated_lake.data_dir)
    return generated_lake


@pytest.mark.integration
def test_the_report_asset_writes_a_page_that_opens_offline_with_charts_and_findings(
    report_lake: GeneratedLake,
) -> None:
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [security_report],
            partition_key=DAY,
            instance=instance,
            resources={"azlogs": AzlogsSettings(data_dir=str(report_lake.data_dir))},
        )
    assert result.success
    [event] = result.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    path = Path(str(metadata["path"]))
    assert path.name == f"security-report-{DAY}.html" and path.is_file()
    assert metadata["open"] == path.as_uri()
    assert metadata["signins"] > 1000 and metadata["findings"] >= 6
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == CHECK_SELF_CONTAINED and check.passed
    assert external_references(path.read_text()) == []

    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "security-report.png"
    screenshot.unlink(missing_ok=True)
    chromium(path.as_uri(), *OFFLINE, f"--screenshot={screenshot}", window="1400,3000")
    dom = chromium(path.as_uri(), *OFFLINE, "--dump-dom", window="1400,3000")

    image = screenshot.read_bytes()
    assert image.startswith(PNG_SIGNATURE) and len(image) > 100_000, "a rendered, not blank, page"
    for name in CHARTS:
        figure = re.search(
            rf'<figure class="chart" data-chart="{name}" data-points="(\d+)".*?</figure>',
            dom,
            re.DOTALL,
        )
        assert figure, f"chart {name} is not on the page"
        assert int(figure.group(1)) > 0, f"chart {name} has no data"
        assert "<svg" in figure.group(0) and figure.group(0).count("<path") >= 5, name
    for scenario in report_lake.ground_truth["scenarios"]:
        assert f"<td>{scenario['kind']}</td><td>{scenario['entity']}</td>" in dom, scenario
    for section in ("Top risky users", "Feed health", "Findings"):
        assert f">{section}</h2>" in dom
    assert "SignInLogs" in dom and "No risky users" not in dom


def test_azlogs_report_writes_the_file_and_rejects_a_bad_day(
    report_lake: GeneratedLake, tmp_path: Path
) -> None:
    env = {**os.environ, "AZLOGS_DATA_DIR": str(report_lake.data_dir)}
    out = tmp_path / "day.html"
    done = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "report", "--day", DAY, "--out", str(out)],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == str(out)
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count('<figure class="chart"') == 5
    assert external_references(page) == []

    bad = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "report", "--day", "2026-3-2"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
