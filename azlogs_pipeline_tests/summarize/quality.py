"""Detection quality on generated data: a family's findings scored against what was injected
(every injected case found, nothing else), one line of the printed table per detection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from azlogs_pipeline.summarize import SummaryResult

QUALITY_HEADER = (
    f"{'detection':32} {'found':>5} {'true':>5} {'expected':>8} {'precision':>9} {'recall':>6}"
)


def findings(results: list[SummaryResult]) -> list[dict[str, Any]]:
    """Every row of the built summary partitions, in order."""
    return [row for result in results for row in result.data.to_pylist()]


def score(
    kind: str, mine: list[dict[str, Any]], truth: Sequence[Any], matches: Callable[..., bool]
) -> str:
    """Assert precision and recall 1.0 and one finding per expected case (`matches(row, case)`);
    the table line of `kind`."""
    true_positive = [r for r in mine if any(matches(r, s) for s in truth)]
    recalled = [s for s in truth if any(matches(r, s) for r in mine)]
    precision = len(true_positive) / len(mine) if mine else 1.0
    recall = len(recalled) / len(truth) if truth else 1.0
    assert precision == 1.0 and recall == 1.0, (kind, mine, truth)
    assert len(mine) == len(truth), f"{kind}: one finding per expected case, got {mine}"
    return (
        f"{kind:32} {len(mine):>5} {len(true_positive):>5} {len(truth):>8} "
        f"{precision:>9.2f} {recall:>6.2f}"
    )


def score_scenarios(
    kinds: Sequence[str], found: list[dict[str, Any]], scenarios: list[dict], evidence: str
) -> list[str]:
    """`score` each kind against its injected scenarios, one finding per scenario entity; the
    last id in a finding's `evidence` column is one of the scenario's sign-ins."""

    def same_scenario(row: dict[str, Any], s: dict[str, Any]) -> bool:
        return row["entity"].lower() == s["entity"].lower() and row[evidence][-1] in s["signin_ids"]

    lines = []
    for kind in kinds:
        truth = list({s["entity"].lower(): s for s in scenarios if s["kind"] == kind}.values())
        mine = [r for r in found if r["detection"] == kind]
        lines.append(score(kind, mine, truth, same_scenario))
    return lines
