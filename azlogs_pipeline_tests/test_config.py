"""Settings: every variable validated, with a message naming it; secrets never shown."""

from __future__ import annotations

import pytest

from azlogs_pipeline.config import (
    ConfigError,
    load_archive_settings,
    load_eventhub_settings,
    load_settings,
)

KEY = "Zm9vYmFyLXNlY3JldC1rZXktdGhhdC1sb29rcy1yZWFsPQ=="
EH = (
    "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;"
    f"SharedAccessKey={KEY};EntityPath=insights-logs-signinlogs"
)
BASE = {
    "AZLOGS_EVENTHUB_CONNECTION_STRING": EH,
    "AZLOGS_STORAGE_ACCOUNT_NAME": "contosologs",
    "AZLOGS_STORAGE_ACCOUNT_KEY": KEY,
}


def test_defaults_and_entity_path() -> None:
    settings = load_settings(BASE)
    assert settings.eventhub.names == ("insights-logs-signinlogs",)
    assert settings.eventhub.consumer_group == "$Default"
    assert settings.eventhub.start_position == "earliest"
    assert settings.eventhub.transport == "amqp"
    assert settings.storage.container == "azurelogs"
    assert settings.storage.account_url == "https://contosologs.blob.core.windows.net"
    assert str(settings.data_dir) == "data"


def test_hub_list_and_choices() -> None:
    env = {
        **BASE,
        "AZLOGS_EVENTHUB_NAME": "signins, audit ,signins",
        "AZLOGS_TRANSPORT": "WebSocket",
        "AZLOGS_START_POSITION": "latest",
        "AZLOGS_CONSUMER_GROUP": "azlogs",
    }
    hub = load_eventhub_settings(env)
    assert hub.names == ("signins", "audit")
    assert (hub.transport, hub.start_position, hub.consumer_group) == (
        "websocket",
        "latest",
        "azlogs",
    )


def test_secrets_never_in_repr() -> None:
    settings = load_settings(BASE)
    assert KEY not in repr(settings)
    assert KEY not in str(settings)
    assert KEY not in f"{settings.storage.account_key}"
    assert settings.storage.account_key is not None
    assert settings.storage.account_key.get() == KEY


def test_namespace_with_entra_id() -> None:
    env = {
        "AZLOGS_EVENTHUB_NAMESPACE": "contoso",
        "AZLOGS_EVENTHUB_NAME": "adlogs",
        "AZLOGS_STORAGE_ACCOUNT_URL": "https://contosologs.blob.core.windows.net",
    }
    settings = load_settings(env)
    assert settings.eventhub.fully_qualified_namespace == "contoso.servicebus.windows.net"
    assert settings.eventhub.uses_entra_id and settings.storage.uses_entra_id


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"AZLOGS_EVENTHUB_CONNECTION_STRING": ""}, "AZLOGS_EVENTHUB_NAMESPACE"),
        ({"AZLOGS_EVENTHUB_CONNECTION_STRING": f"SharedAccessKey={KEY}"}, "Endpoint"),
        (
            {"AZLOGS_EVENTHUB_CONNECTION_STRING": f"Endpoint=sb://x/;SharedAccessKey={KEY};oops"},
            "valid connection string",
        ),
        ({"AZLOGS_EVENTHUB_NAME": "bad/name"}, "AZLOGS_EVENTHUB_NAME"),
        ({"AZLOGS_STORAGE_CONTAINER": "Bad_Container"}, "AZLOGS_STORAGE_CONTAINER"),
        ({"AZLOGS_STORAGE_CONTAINER": "a--b"}, "AZLOGS_STORAGE_CONTAINER"),
        ({"AZLOGS_STORAGE_ACCOUNT_NAME": ""}, "AZLOGS_STORAGE_ACCOUNT_NAME"),
        ({"AZLOGS_START_POSITION": "middle"}, "AZLOGS_START_POSITION"),
        ({"AZLOGS_TRANSPORT": "http"}, "AZLOGS_TRANSPORT"),
    ],
)
def test_errors_name_the_variable_and_hide_secrets(change: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, **change})
    assert variable in str(caught.value)
    assert KEY not in str(caught.value)


def test_no_storage_at_all() -> None:
    env = {"AZLOGS_EVENTHUB_CONNECTION_STRING": EH}
    with pytest.raises(ConfigError, match="AZLOGS_STORAGE_ACCOUNT_NAME"):
        load_settings(env)


def test_dotenv_file_is_honoured(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [*BASE, "AZLOGS_EVENTHUB_NAME", "AZLOGS_DATA_DIR"]:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in BASE.items()) + "\nAZLOGS_DATA_DIR=/srv/azlogs\n"
    )
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert str(settings.data_dir) == "/srv/azlogs"
    monkeypatch.setenv("AZLOGS_DATA_DIR", "/override")
    assert str(load_settings().data_dir) == "/override"


def test_drain_limits() -> None:
    settings = load_settings(
        {
            **BASE,
            "AZLOGS_DRAIN_MAX_EVENTS": "1000",
            "AZLOGS_FLUSH_MB": "8",
            "AZLOGS_DRAIN_MAX_SECONDS": "30",
        }
    )
    assert settings.drain.max_events == 1000
    assert settings.drain.max_seconds == 30
    assert settings.drain.flush_bytes == 8 * 1024 * 1024
    assert load_settings(BASE).drain.max_events is None
    assert load_settings(BASE).drain.max_seconds == 3600, "a drain is bounded by default"
    with pytest.raises(ConfigError, match="AZLOGS_DRAIN_MAX_EVENTS"):
        load_settings({**BASE, "AZLOGS_DRAIN_MAX_EVENTS": "lots"})


def test_event_hub_retry_policy() -> None:
    default = load_settings(BASE).eventhub
    assert (default.retry_total, default.retry_timeout) == (3, 60)
    tuned = load_settings(
        {**BASE, "AZLOGS_EVENTHUB_RETRY_TOTAL": "0", "AZLOGS_EVENTHUB_RETRY_TIMEOUT": "7.5"}
    ).eventhub
    assert (tuned.retry_total, tuned.retry_timeout) == (0, 7.5)
    for name, value in [
        ("AZLOGS_EVENTHUB_RETRY_TOTAL", "-1"),
        ("AZLOGS_EVENTHUB_RETRY_TOTAL", "three"),
        ("AZLOGS_EVENTHUB_RETRY_TIMEOUT", "0"),
        ("AZLOGS_EVENTHUB_RETRY_TIMEOUT", "inf"),
    ]:
        with pytest.raises(ConfigError, match=name):
            load_settings({**BASE, name: value})


def test_archive_defaults_to_the_checkpoint_account_without_event_hub_settings() -> None:
    storage_only = {k: v for k, v in BASE.items() if k.startswith("AZLOGS_STORAGE")}
    archive = load_archive_settings(storage_only)
    assert archive.account_name == "contosologs" and archive.account_key is not None
    assert archive.account_url == "https://contosologs.blob.core.windows.net"
    assert archive.containers == () and not archive.uses_entra_id
    assert KEY not in repr(archive)


def test_archive_own_account_and_containers() -> None:
    conn = f"DefaultEndpointsProtocol=https;AccountName=archive1;AccountKey={KEY};"
    env = {
        "AZLOGS_ARCHIVE_CONNECTION_STRING": conn,
        "AZLOGS_ARCHIVE_CONTAINERS": "insights-logs-signinlogs, insights-activity-logs",
    }
    archive = load_archive_settings(env)
    assert archive.connection_string is not None and archive.connection_string.get() == conn
    assert archive.containers == ("insights-logs-signinlogs", "insights-activity-logs")
    assert KEY not in repr(archive)
    url = load_archive_settings(
        {"AZLOGS_ARCHIVE_ACCOUNT_URL": "https://old.blob.core.windows.net/"}
    )
    assert url.account_url == "https://old.blob.core.windows.net" and url.uses_entra_id


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "AZLOGS_ARCHIVE_CONNECTION_STRING"),
        ({"AZLOGS_ARCHIVE_CONNECTION_STRING": f"AccountKey={KEY}"}, "names no account"),
        ({"AZLOGS_ARCHIVE_ACCOUNT_URL": f"https://a.blob.core.windows.net/?sig={KEY}"}, "SAS"),
        ({"AZLOGS_ARCHIVE_CONTAINERS": "azurelogs"}, "AZLOGS_ARCHIVE_CONTAINERS"),
        (
            {
                "AZLOGS_ARCHIVE_CONNECTION_STRING": f"AccountName=a;AccountKey={KEY}",
                "AZLOGS_ARCHIVE_ACCOUNT_URL": "https://a.blob.core.windows.net",
            },
            "both set",
        ),
    ],
)
def test_archive_errors_name_the_variable_and_hide_secrets(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_archive_settings(env)
    assert variable in str(caught.value)
    assert KEY not in str(caught.value)


def test_dagster_postgres_is_off_by_default_and_named_by_variables() -> None:
    from azlogs_pipeline.config import load_dagster_postgres

    assert load_dagster_postgres({}) is None
    url = load_dagster_postgres({"AZLOGS_DAGSTER_PG_URL": f"postgresql://u:{KEY}@db:5432/dagster"})
    assert url is not None and url.url_variable == "AZLOGS_DAGSTER_PG_URL"
    assert KEY not in repr(url)
    parts = load_dagster_postgres(
        {
            "AZLOGS_DAGSTER_PG_HOST": "db",
            "AZLOGS_DAGSTER_PG_USER": "dagster",
            "AZLOGS_DAGSTER_PG_PASSWORD": KEY,
            "AZLOGS_DAGSTER_PG_DB": "dagster",
        }
    )
    assert parts is not None and parts.url_variable is None
    assert dict(parts.fields) == {
        "hostname": "AZLOGS_DAGSTER_PG_HOST",
        "username": "AZLOGS_DAGSTER_PG_USER",
        "password": "AZLOGS_DAGSTER_PG_PASSWORD",
        "db_name": "AZLOGS_DAGSTER_PG_DB",
    }


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AZLOGS_DAGSTER_PG_URL": f"mysql://u:{KEY}@db/x"}, "AZLOGS_DAGSTER_PG_URL"),
        (
            {"AZLOGS_DAGSTER_PG_HOST": "db", "AZLOGS_DAGSTER_PG_PASSWORD": KEY},
            "AZLOGS_DAGSTER_PG_USER",
        ),
        (
            {"AZLOGS_DAGSTER_PG_URL": "postgresql://db/x", "AZLOGS_DAGSTER_PG_HOST": "db"},
            "not both",
        ),
        (
            {
                "AZLOGS_DAGSTER_PG_HOST": "db",
                "AZLOGS_DAGSTER_PG_USER": "u",
                "AZLOGS_DAGSTER_PG_DB": "d",
                "AZLOGS_DAGSTER_PG_PORT": "54x",
            },
            "AZLOGS_DAGSTER_PG_PORT",
        ),
    ],
)
def test_dagster_postgres_errors_name_the_variable(env: dict[str, str], named: str) -> None:
    from azlogs_pipeline.config import load_dagster_postgres

    with pytest.raises(ConfigError, match=named) as raised:
        load_dagster_postgres(env)
    assert KEY not in str(raised.value)
