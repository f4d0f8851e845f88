"""Detection quality on the shared generated lake: for each family on sign-ins and directory
changes, every injected scenario is found and nothing in the look-alike background (precision
and recall 1.0, one finding per case); feed_detections, which needs a second lake, scores itself
in test_feed_detections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from azlogs_pipeline.local.generator import DIRECTORY_KINDS, SESSION_KINDS, SIGNIN_SCENARIO_KINDS
from azlogs_pipeline.summarize import SummaryResult
from azlogs_pipeline.summarize.report import SIGNIN_DETECTION_KINDS
from azlogs_pipeline_tests.summarize.generated_lake import GeneratedLake
from azlogs_pipeline_tests.summarize.quality import (
    QUALITY_HEADER,
    findings,
    score,
    score_scenarios,
)


def signin_lines(truth: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    scenarios = truth["scenarios"]
    assert set(SIGNIN_SCENARIO_KINDS) <= {s["kind"] for s in scenarios}, "all kinds injected"
    return score_scenarios(SIGNIN_DETECTION_KINDS, found, scenarios, "signin_ids")


def session_lines(truth: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    scenarios = truth["scenarios"]
    assert set(SESSION_KINDS) <= {s["kind"] for s in scenarios}, "every session scenario injected"
    return score_scenarios(SESSION_KINDS, found, scenarios, "record_ids")


def expected_changes(truth: dict[str, Any]) -> dict[str, dict[str, tuple[str, str]]]:
    """detection -> {audit id: (entity, severity)}: the injected scenarios, plus the background's
    credential renewals (a credential added is always a finding: medium when no consent came
    before it, which the background makes sure of)."""
    expected: dict[str, dict[str, tuple[str, str]]] = {kind: {} for kind in DIRECTORY_KINDS}
    for s in truth["scenarios"]:
        if s["kind"] in DIRECTORY_KINDS:
            severity = "medium" if s["kind"] == "consent_to_risky_permissions" else "high"
            if s["kind"] == "consent_to_risky_permissions" and s["details"]["admin_consent"]:
                severity = "high"
            for rid in s["record_ids"]:
                expected[s["kind"]][rid] = (s["entity"], severity)
    scenario_ids = {rid for s in truth["scenarios"] for rid in s["record_ids"]}
    for h in truth["audit_highlights"]:
        if h["kind"] == "app_credential_change" and h["audit_id"] not in scenario_ids:
            expected["app_credential_added"][h["audit_id"]] = ("", "medium")
    return expected


def directory_lines(truth: dict[str, Any], found: list[dict[str, Any]]) -> list[str]:
    injected = {s["kind"] for s in truth["scenarios"]}
    assert set(DIRECTORY_KINDS) <= injected, "every directory scenario injected"
    expected = expected_changes(truth)
    assert len(expected["app_credential_added"]) > 1, "background renewals are there to test"

    def same_change(row: dict[str, Any], change: tuple[str, tuple[str, str]]) -> bool:
        audit_id, (entity, severity) = change
        return (
            row["record_ids"][-1] == audit_id
            and row["severity"] == severity
            and entity in ("", row["entity"])
        )

    lines = []
    for kind in DIRECTORY_KINDS:
        mine = [r for r in found if r["detection"] == kind]
        lines.append(score(kind, mine, list(expected[kind].items()), same_change))
    return lines


SCORED: dict[str, Callable[[dict[str, Any], list[dict[str, Any]]], list[str]]] = {
    "signin_detections": signin_lines,
    "session_detections": session_lines,
    "directory_detections": directory_lines,
}


@pytest.mark.timeout(900)  # may build the shared lake and the family's summaries
@pytest.mark.parametrize("family", list(SCORED))
def test_every_injected_scenario_is_found_and_nothing_in_the_background(
    family: str,
    generated_lake: GeneratedLake,
    built_summaries: dict[str, list[SummaryResult]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    found = findings(built_summaries[family])
    lines = [QUALITY_HEADER, *SCORED[family](generated_lake.ground_truth, found)]
    with capsys.disabled():
        print(f"\n{family} on generated data\n" + "\n".join(lines))
