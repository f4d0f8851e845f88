"""DuckDB's `azure` extension, loaded from the `duckdb-extension-azure` package (never downloaded).

Extension binaries are built for one DuckDB version, so the project pins `duckdb` and
`duckdb-extension-azure` to the same number (pyproject.toml; a test checks it). Loading from the
installed package works offline and never writes to `~/.duckdb`.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

import duckdb

EXTENSION_PACKAGE = "duckdb_extension_azure"
EXTENSION_DISTRIBUTION = "duckdb-extension-azure"
EXTENSION_FILE = "azure.duckdb_extension"


class AzureExtensionError(RuntimeError):
    """The azure extension is missing or built for another DuckDB version."""


def extension_path() -> Path:
    """The extension binary shipped by `duckdb-extension-azure` for the installed DuckDB."""
    version = f"v{duckdb.__version__}"
    try:
        root = resources.files(EXTENSION_PACKAGE)
    except ModuleNotFoundError:
        raise AzureExtensionError(
            f"The Python package {EXTENSION_DISTRIBUTION} is not installed. Reinstall the project "
            "(`make setup`): it pins duckdb and duckdb-extension-azure to the same version."
        ) from None
    path = Path(str(root.joinpath("extensions", version, EXTENSION_FILE)))
    if not path.is_file():
        shipped = metadata.version(EXTENSION_DISTRIBUTION)
        raise AzureExtensionError(
            f"{EXTENSION_DISTRIBUTION} {shipped} has no extension for DuckDB {duckdb.__version__}. "
            "Install the versions pinned in pyproject.toml (`make setup`)."
        )
    return path


def load_azure(con: duckdb.DuckDBPyConnection) -> None:
    """Load the azure extension into `con` from the installed package."""
    # A file path, not data; LOAD takes no bind parameter.
    con.execute(f"LOAD '{str(extension_path()).replace(chr(39), chr(39) * 2)}'")
