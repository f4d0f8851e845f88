"""AZLOGS_LAKE_URL: both URL forms, the credential rules, and clear errors that hide secrets."""

from __future__ import annotations

import pytest

from azlogs_pipeline.config import ConfigError, load_lake_settings
from azlogs_pipeline.lake.paths import lake_root, raw_root
from azlogs_pipeline.lake.storage import BlobPath

KEY = "Zm9vYmFyLXNlY3JldC1rZXktdGhhdC1sb29rcy1yZWFsPQ=="
STORAGE = {"AZLOGS_STORAGE_ACCOUNT_NAME": "contosologs", "AZLOGS_STORAGE_ACCOUNT_KEY": KEY}


def test_unset_means_the_local_directory(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AZLOGS_LAKE_URL", raising=False)
    assert load_lake_settings(STORAGE) is None
    assert lake_root(tmp_path) == tmp_path / "lake"


def test_az_url_uses_the_checkpoint_account_by_default() -> None:
    lake = load_lake_settings({**STORAGE, "AZLOGS_LAKE_URL": "az://lake/azlogs/prod"})
    assert lake is not None
    assert (lake.container, lake.prefix) == ("lake", "azlogs/prod")
    assert lake.account_name == "contosologs" and lake.account_key is not None
    assert lake.account_url == "https://contosologs.blob.core.windows.net"
    assert KEY not in repr(lake)


def test_abfss_url_of_the_same_account_uses_its_key_and_of_another_account_entra_id() -> None:
    same = load_lake_settings(
        {**STORAGE, "AZLOGS_LAKE_URL": "abfss://lake@contosologs.dfs.core.windows.net/azlogs"}
    )
    assert same is not None and same.account_key is not None and same.prefix == "azlogs"
    other = load_lake_settings(
        {**STORAGE, "AZLOGS_LAKE_URL": "abfss://lake@datalake01.dfs.core.windows.net/azlogs"}
    )
    assert other is not None and other.uses_entra_id
    assert other.account_url == "https://datalake01.blob.core.windows.net"


def test_lake_specific_credentials_win() -> None:
    conn = f"DefaultEndpointsProtocol=https;AccountName=datalake01;AccountKey={KEY}"
    lake = load_lake_settings(
        {**STORAGE, "AZLOGS_LAKE_URL": "az://lake", "AZLOGS_LAKE_CONNECTION_STRING": conn}
    )
    assert lake is not None and lake.connection_string is not None and lake.prefix == ""
    entra = load_lake_settings(
        {
            **STORAGE,
            "AZLOGS_LAKE_URL": "az://lake/x",
            "AZLOGS_LAKE_ACCOUNT_URL": "https://datalake01.blob.core.windows.net/",
        }
    )
    assert entra is not None and entra.uses_entra_id
    assert entra.account_url == "https://datalake01.blob.core.windows.net"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AZLOGS_LAKE_URL": "s3://bucket/x"}, "AZLOGS_LAKE_URL"),
        ({"AZLOGS_LAKE_URL": "az://Lake_Bad/x"}, "container"),
        ({"AZLOGS_LAKE_URL": "az://lake/../etc"}, "path segment"),
        ({"AZLOGS_LAKE_URL": "az://lake/x"}, "no credentials"),
        (
            {
                "AZLOGS_LAKE_URL": "az://lake/x",
                "AZLOGS_LAKE_CONNECTION_STRING": f"AccountKey={KEY}",
            },
            "AZLOGS_LAKE_CONNECTION_STRING",
        ),
        (
            {"AZLOGS_LAKE_URL": "az://lake/x", "AZLOGS_LAKE_ACCOUNT_URL": f"https://a?sig={KEY}"},
            "AZLOGS_LAKE_ACCOUNT_URL",
        ),
    ],
)
def test_errors_name_what_is_wrong_and_hide_secrets(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_lake_settings(env)
    assert named in str(caught.value)
    assert KEY not in str(caught.value)


def test_the_lake_root_is_the_container_prefix(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = "UseDevelopmentStorage=true"
    monkeypatch.setenv("AZLOGS_LAKE_URL", "az://lake/azlogs")
    monkeypatch.setenv("AZLOGS_LAKE_CONNECTION_STRING", conn)
    root = raw_root(tmp_path)
    assert isinstance(root, BlobPath)
    assert str(root) == "az://lake/azlogs/raw"
    assert str(root / "category=SignInLogs") == "az://lake/azlogs/raw/category=SignInLogs"
