"""Which raw-lake categories feed which normalized table.

Each table is one SQL file, `normalize/sql/<table>.sql`: a single SELECT over a relation named
`raw_hour` (the raw-lake columns, already restricted to the table's categories and to one
event-time hour) that returns the table's rows, deduplicated. Column lists several tables share
are written once, in `normalize/sql/_<fragment>.sql`, and stand in a table's file as
`{<fragment>}` (see FRAGMENTS); `TableSpec.sql()` gives the statement with them filled in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from azlogs_pipeline.lake.builds import RawFile
from azlogs_pipeline.sql_files import read_sql
from azlogs_pipeline.vocabulary import ACTIVITY_LOG_CATEGORIES, SIGNIN_CATEGORIES

SQL_PACKAGE = "azlogs_pipeline.normalize"
FRAGMENTS: tuple[str, ...] = (
    "envelope_columns",
    "risk_event_columns",
    "directory_envelope_columns",
)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """A normalized table: its name, the categories it reads, and its SQL file.

    A category belongs to the table when it equals one of `categories` or ends with one of
    `category_suffixes` (both compared case-insensitively), so look-alikes such as
    `MicrosoftServicePrincipalSignInLogs` land in `signin_logs` without a code change.
    """

    name: str
    categories: tuple[str, ...]
    category_suffixes: tuple[str, ...] = ()
    dedupes_by_key: bool = False
    """The SQL finds the records that may be versions of one event by the raw `dedupe_key` and
    passes every other record straight through (signin_logs.sql says how): its rows are not sorted
    (they keep the raw files' order, which is deterministic), and a build whose rows repeat an
    `id` (raw keys that disagree with the SQL's ids) is rebuilt with the keys ignored."""

    def matches(self, category: str) -> bool:
        lowered = category.lower()
        return lowered in {c.lower() for c in self.categories} or any(
            lowered.endswith(suffix.lower()) for suffix in self.category_suffixes
        )

    def inputs(self, files: Sequence[RawFile]) -> list[RawFile]:
        """The raw files (of one hour) this table reads: those of its categories."""
        return [f for f in files if self.matches(f.category)]

    @property
    def sql_file(self) -> str:
        return f"{self.name}.sql"

    def sql(self) -> str:
        """The table's SELECT statement, its `{fragment}`s filled in; raises FileNotFoundError
        naming the file if missing."""
        statement = read_sql(SQL_PACKAGE, self.sql_file)
        for name in FRAGMENTS:
            statement = statement.replace(f"{{{name}}}", fragment_sql(name))
        return statement


def fragment_sql(name: str) -> str:
    """The column list in `normalize/sql/_<name>.sql`, without its leading comment lines."""
    lines = read_sql(SQL_PACKAGE, f"_{name}.sql").splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


def macros_sql() -> str:
    """The DuckDB macros every table query may use (`normalize/sql/_macros.sql`)."""
    return read_sql(SQL_PACKAGE, "_macros.sql") + ";"


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "signin_logs",
        SIGNIN_CATEGORIES,
        category_suffixes=("SignInLogs",),
        dedupes_by_key=True,
    ),
    TableSpec("audit_logs", ("AuditLogs",)),
    TableSpec("provisioning_logs", ("ProvisioningLogs",)),
    TableSpec("risky_users", ("RiskyUsers",)),
    TableSpec("user_risk_events", ("UserRiskEvents",)),
    TableSpec("risky_service_principals", ("RiskyServicePrincipals",)),
    TableSpec("service_principal_risk_events", ("ServicePrincipalRiskEvents",)),
    TableSpec("activity_logs", ACTIVITY_LOG_CATEGORIES),
    TableSpec("graph_activity_logs", ("MicrosoftGraphActivityLogs",)),
)
TABLES_BY_NAME: dict[str, TableSpec] = {spec.name: spec for spec in TABLES}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES_BY_NAME)


def table_spec(name: str) -> TableSpec:
    """The spec of table `name`; ValueError listing the known tables otherwise."""
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown table {name!r}; known tables: {', '.join(TABLE_NAMES)}"
        ) from None


def table_for_category(category: str) -> TableSpec | None:
    """The table a raw category feeds, or None for categories no table reads."""
    for spec in TABLES:
        if spec.matches(category):
            return spec
    return None
