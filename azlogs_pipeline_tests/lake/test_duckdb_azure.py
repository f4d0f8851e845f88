"""The DuckDB pin: the azure extension package matches DuckDB and loads offline."""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import duckdb

from azlogs_pipeline.lake.duckdb_azure import EXTENSION_DISTRIBUTION, extension_path, load_azure

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _pins() -> dict[str, str]:
    deps = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    pins = {}
    for dep in deps:
        name, sep, version = dep.partition("==")
        if sep:
            pins[name.strip()] = version.strip()
    return pins


def test_duckdb_and_its_azure_extension_are_pinned_to_one_version() -> None:
    pins = _pins()
    assert pins.get("duckdb") == pins.get(EXTENSION_DISTRIBUTION) == "1.5.5", pins
    assert duckdb.__version__ == metadata.version(EXTENSION_DISTRIBUTION) == pins["duckdb"]


def test_the_extension_loads_from_the_package_without_a_download(tmp_path: Path) -> None:
    # An empty extension directory and no autoload: only the packaged binary can satisfy LOAD.
    con = duckdb.connect(
        config={
            "extension_directory": str(tmp_path / "ext"),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    load_azure(con)
    loaded = con.execute(
        "SELECT loaded FROM duckdb_extensions() WHERE extension_name = 'azure'"
    ).fetchone()
    assert loaded == (True,)
    assert extension_path().is_file()
    assert not (tmp_path / "ext").exists()
