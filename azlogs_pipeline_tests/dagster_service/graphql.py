"""The GraphQL the dagster_service tests send the webserver, as the UI sends it: launching a
partition backfill, following it and its runs, terminating a run."""

from __future__ import annotations

from typing import Any

from azlogs_pipeline_tests.dagster_service.service import DagsterService

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}"""
STATUS = """
query Status($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { status }
    ... on Error { message }
  }
}"""
RUNS = """
query Runs($id: String!) {
  runsOrError(filter: {tags: [{key: "dagster/backfill", value: $id}]}) {
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
}"""
TERMINATE = """
mutation Terminate($id: String!) {
  terminateRun(runId: $id) {
    __typename
    ... on TerminateRunFailure { message }
    ... on PythonError { message }
  }
}"""
RUN_STATUS = """
query RunStatus($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def launch_backfill(service: DagsterService, params: dict[str, Any]) -> str:
    """Launch a partition backfill (`LaunchBackfillParams`); its id."""
    result = service.graphql(LAUNCH, {"params": params})["launchPartitionBackfill"]
    assert result["__typename"] == "LaunchBackfillSuccess", result
    return str(result["backfillId"])
