"""The project's SQL lives in `.sql` files next to the code that runs it (`<package>/sql/`); this
reads them from the installed package."""

from __future__ import annotations

from functools import cache
from importlib import resources

SQL_DIR = "sql"


@cache
def read_sql(package: str, file_name: str) -> str:
    """The statement in `<package>/sql/<file_name>`, without its trailing semicolon.

    Raises FileNotFoundError naming the file when the package does not ship it."""
    resource = resources.files(package).joinpath(SQL_DIR, file_name)
    if not resource.is_file():
        raise FileNotFoundError(
            f"SQL file {file_name!r} is missing from {package}/{SQL_DIR}: restore it (every "
            "table and summary needs its SQL file) or reinstall the package"
        )
    return resource.read_text(encoding="utf-8").strip().rstrip(";").strip()
