"""Errors a person can act on: every bad setting or situation is one `azlogs: ...` line naming what
to fix, exit status non-zero, no traceback and no secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from azlogs_pipeline.cli import BuildLines, main
from azlogs_pipeline.local.processes import free_port
from azlogs_pipeline_tests.fixtures.azurite import AzuriteEndpoint
from azlogs_pipeline_tests.fixtures.settings import local_environment

KEY = "RmFrZUtleUZha2VLZXlGYWtlS2V5RmFrZUtleUZha2VLZXk="
OFFLINE = {
    "AZLOGS_EVENTHUB_CONNECTION_STRING": (
        "Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=SAS_KEY_VALUE"
    ),
    "AZLOGS_EVENTHUB_NAME": "adlogs",
    "AZLOGS_STORAGE_CONNECTION_STRING": (
        f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={KEY};"
        "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1"
    ),
}
"""Valid settings that point nowhere: every case below fails before anything is contacted."""


def _cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    env: dict[str, str],
    *args: str,
) -> tuple[int, list[str]]:
    monkeypatch.chdir(tmp_path)  # no .env file
    for name in list(os.environ):
        if name.startswith("AZLOGS_") or name == "DAGSTER_HOME":
            monkeypatch.delenv(name)
    monkeypatch.setenv("AZLOGS_DATA_DIR", str(tmp_path / "data"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(list(args))
    return code, capsys.readouterr().err.splitlines()


def _one_clear_line(code: int, err: list[str], *names: str, secret: str | None = None) -> None:
    assert code != 0
    assert len(err) == 1 and err[0].startswith("azlogs: "), err
    assert all(name in err[0] for name in names), err[0]
    assert "Traceback" not in err[0]
    assert secret is None or secret not in err[0]


def _with_key(connection_string: str, key: str) -> str:
    return re.sub(r"AccountKey=[^;]+", f"AccountKey={key}", connection_string)


def _free_pg_url() -> str:
    return f"postgresql://azlogs:pg-secret-pw@127.0.0.1:{free_port()}/azlogs"


BAD_SETTINGS = [
    ("AZLOGS_FLUSH_RECORDS", "nan"),
    ("AZLOGS_FLUSH_RECORDS", "0.5"),
    ("AZLOGS_FLUSH_MB", "inf"),
    ("AZLOGS_FLUSH_MB", "4096"),
    ("DAGSTER_HOME", "relative/dagster"),
    ("DAGSTER_HOME", "/nonexistent/dagster-home"),
    ("AZLOGS_EVENTHUB_NAME", ","),
    ("AZLOGS_CONSUMER_GROUP", "../other"),
    ("AZLOGS_STORAGE_CONNECTION_STRING", "AccountName=devstoreaccount1;AccountKey=not*base64"),
    ("AZLOGS_EVENTHUB_RETRY_TIMEOUT", "nan"),
]


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it(
    name: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code, err = _cli(monkeypatch, capsys, tmp_path, {**OFFLINE, name: value}, "run")
    _one_clear_line(code, err, name, secret="not*base64" if "base64" in value else None)


def test_settings_without_a_connection_string_are_checked_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    entra = {"AZLOGS_EVENTHUB_NAME": "adlogs", "AZLOGS_STORAGE_ACCOUNT_NAME": "logs"}
    for env, name in [
        ({**entra, "AZLOGS_EVENTHUB_NAMESPACE": "garbage!"}, "AZLOGS_EVENTHUB_NAMESPACE"),
        (
            {**entra, "AZLOGS_EVENTHUB_NAMESPACE": "ns", "AZLOGS_STORAGE_ACCOUNT_URL": "garbage"},
            "AZLOGS_STORAGE_ACCOUNT_URL",
        ),
        (
            {**entra, "AZLOGS_EVENTHUB_NAMESPACE": "ns", "AZLOGS_STORAGE_ACCOUNT_KEY": "abc%"},
            "AZLOGS_STORAGE_ACCOUNT_KEY",
        ),
    ]:
        code, err = _cli(monkeypatch, capsys, tmp_path, env, "status")
        _one_clear_line(code, err, name)


def test_a_data_dir_that_is_a_file_and_an_unreachable_postgres(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    code, err = _cli(
        monkeypatch, capsys, tmp_path, {**OFFLINE, "AZLOGS_DATA_DIR": str(a_file)}, "run"
    )
    _one_clear_line(code, err, "AZLOGS_DATA_DIR")

    url = _free_pg_url()
    code, err = _cli(
        monkeypatch, capsys, tmp_path, {**OFFLINE, "AZLOGS_DAGSTER_PG_URL": url}, "run"
    )
    _one_clear_line(code, err, "AZLOGS_DAGSTER_PG_URL", "does not answer", secret="pg-secret-pw")


def test_azure_failures_of_status_and_publish_are_one_line(
    eventhubs_emulator_factory: Any,
    azurite_endpoint: AzuriteEndpoint,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    emulator = eventhubs_emulator_factory(hubs=["adlogs"], partitions=2)
    env = local_environment(emulator, azurite_endpoint, tmp_path / "data")
    env["AZLOGS_STORAGE_CONTAINER"] = "never-created-yet"
    fast = {"AZLOGS_EVENTHUB_RETRY_TOTAL": "0"}

    def cli(overrides: dict[str, str], *args: str) -> tuple[int, list[str]]:
        return _cli(monkeypatch, capsys, tmp_path, {**env, **overrides}, *args)

    code, err = cli({}, "status")
    assert (code, err) == (0, []), "before the first run there are just no checkpoints"

    wrong_key = _with_key(env["AZLOGS_STORAGE_CONNECTION_STRING"], KEY)
    code, err = cli({"AZLOGS_STORAGE_CONNECTION_STRING": wrong_key}, "status")
    _one_clear_line(code, err, "refused the credentials", "AZLOGS_STORAGE", secret=KEY)

    no_blob = env["AZLOGS_STORAGE_CONNECTION_STRING"].replace(
        f":{azurite_endpoint.port}/", f":{free_port()}/"
    )
    code, err = cli({"AZLOGS_STORAGE_CONNECTION_STRING": no_blob}, "status")
    _one_clear_line(code, err, "could not be reached", "AZLOGS_STORAGE")

    no_hub_host = env["AZLOGS_EVENTHUB_CONNECTION_STRING"].replace(
        f":{emulator.port}", f":{free_port()}"
    )
    code, err = cli({**fast, "AZLOGS_EVENTHUB_CONNECTION_STRING": no_hub_host}, "status")
    _one_clear_line(
        code, err, "Could not connect to Event Hubs", "AZLOGS_EVENTHUB_CONNECTION_STRING"
    )

    code, err = cli({**fast, "AZLOGS_EVENTHUB_NAME": "nohub"}, "status")
    _one_clear_line(code, err, "'nohub' was not found", "AZLOGS_EVENTHUB_NAME")

    body = tmp_path / "body.json"
    body.write_text('{"records": []}')
    code, err = cli({**fast, "AZLOGS_EVENTHUB_NAME": "nohub"}, "publish", str(body))
    _one_clear_line(code, err, "'nohub' was not found", "AZLOGS_EVENTHUB_NAME")


def test_a_failed_run_ends_with_the_projects_message_and_no_stack_trace(
    eventhubs_emulator_factory: Any, azurite_endpoint: AzuriteEndpoint, tmp_path: Path
) -> None:
    emulator = eventhubs_emulator_factory(hubs=["adlogs"], partitions=1)
    env = local_environment(emulator, azurite_endpoint, tmp_path / "data")
    env["AZLOGS_STORAGE_CONNECTION_STRING"] = _with_key(
        env["AZLOGS_STORAGE_CONNECTION_STRING"], KEY
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AZLOGS_")}

    done = subprocess.run(
        [sys.executable, "-m", "azlogs_pipeline.cli", "run"],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode != 0
    err = done.stderr.strip().splitlines()
    assert err and err[-1].startswith("adlogs:0 failed (run "), done.stderr
    assert "refused the credentials" in err[-1] and "AZLOGS_STORAGE" in err[-1]
    assert "): The storage account" in err[-1], "the project's advice, not the SDK's text, first"
    assert "azlogs_pipeline." not in err[-1]
    assert "Traceback" not in done.stderr and "Stack Trace" not in done.stderr
    assert KEY not in done.stderr + done.stdout


def _build(key: str, success: bool, rows: int = 0) -> dict[str, Any]:
    return {
        "partition_key": key,
        "success": success,
        "rows": {"signin_logs": rows} if rows else {},
        "summary_rows": {},
    }


def test_a_failed_hour_prints_as_an_hour_and_its_day_is_not_ok() -> None:
    printer = BuildLines()
    lines = [
        printer.line(build)
        for build in [
            _build("2026-11-20-09:00", True, 5),
            _build("2026-11-20-10:00", False),
            _build("2026-11-20", True),
            _build("2026-11-21-00:00", True, 1),
            _build("2026-11-21", True),
        ]
    ]
    assert lines[0] == "hour 2026-11-20-09:00 ok: 5 table rows, 0 detections"
    assert lines[1] == "hour 2026-11-20-10:00 FAILED"
    assert lines[2].startswith(
        "day 2026-11-20 INCOMPLETE: no rows (without the failed hours 2026-11-20-10:00"
    )
    assert lines[4] == "day 2026-11-21 ok: no rows"
