"""The ready queries: one `.sql` file each in `queries/sql/`, run by name with `azlogs query NAME`
and rendered into docs/queries.md (`python -m azlogs_pipeline.queries.docs`).

A query file starts with header lines, then its comments and one SELECT::

    -- title: What the query answers (the docs section title)
    -- question: 1          (optional: its number among the analyst questions in the docs)
    -- params: since, user  (the options it takes, from PARAMETERS; empty for none)
    -- required: user       (optional: the options it cannot run without)
    -- returns: hour, dimension, value, failures

Options are bound as `$since`, `$user`, `$severity`: never pasted into the SQL. An option not
given is NULL, so each filter reads `($since IS NULL OR event_time >= $since)`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources

from azlogs_pipeline.sql_files import SQL_DIR, read_sql

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class Parameter:
    """An option of `azlogs query`: its metavar and what it means."""

    name: str
    metavar: str
    help: str


PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in (
        Parameter(
            "since",
            "WHEN",
            "only rows at or after WHEN: an age (30m, 24h, 7d, 2w) or an ISO time (UTC if no zone)",
        ),
        Parameter("user", "UPN", "one user: user principal name or object id (any case)"),
        Parameter("severity", "LEVEL", "lowest severity shown: " + ", ".join(SEVERITIES)),
    )
}


class QueryError(ValueError):
    """A ready query that does not exist, or an option it cannot take; the message says why."""


@dataclass(frozen=True)
class ReadyQuery:
    name: str
    title: str
    question: int | None
    params: tuple[str, ...]
    required: tuple[str, ...]
    returns: tuple[str, ...]
    sql: str
    """The file after its header: comments and the statement (no trailing semicolon)."""

    def usage(self) -> str:
        """`azlogs query NAME [--since WHEN] --user UPN`."""
        options = []
        for name in self.params:
            option = f"--{name} {PARAMETERS[name].metavar}"
            options.append(option if name in self.required else f"[{option}]")
        return " ".join(["azlogs query", self.name, *options])


_HEADER = re.compile(r"-- (title|question|params|required|returns):(.*)")
_AGE = re.compile(r"(\d+)([mhdw])")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _names(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def parse_query(name: str, text: str) -> ReadyQuery:
    """A query file's header and body; ValueError naming the file when the header is wrong."""
    header: dict[str, str] = {}
    lines = text.strip().splitlines()
    while lines and (match := _HEADER.fullmatch(lines[0].rstrip())):
        header[match.group(1)] = match.group(2).strip()
        lines.pop(0)
    missing = {"title", "params", "returns"} - set(header)
    if missing:
        raise ValueError(f"ready query {name}.sql lacks its header line(s): {', '.join(missing)}")
    params = _names(header["params"])
    required = _names(header.get("required", ""))
    unknown = set(params) - set(PARAMETERS) or set(required) - set(params)
    if unknown:
        raise ValueError(f"ready query {name}.sql: unknown params or required {sorted(unknown)}")
    question = header.get("question")
    return ReadyQuery(
        name=name,
        title=header["title"],
        question=int(question) if question else None,
        params=params,
        required=required,
        returns=_names(header["returns"]),
        sql="\n".join(lines).strip().rstrip(";").strip(),
    )


@cache
def ready_queries() -> tuple[ReadyQuery, ...]:
    """Every ready query: the analyst questions in their order, then the others by name."""
    folder = resources.files(__name__).joinpath(SQL_DIR)
    names = sorted(f.name.removesuffix(".sql") for f in folder.iterdir() if f.name.endswith(".sql"))
    queries = [parse_query(name, read_sql(__name__, f"{name}.sql")) for name in names]
    return tuple(sorted(queries, key=lambda q: (q.question is None, q.question or 0, q.name)))


def ready_query(name: str) -> ReadyQuery:
    for query in ready_queries():
        if query.name == name:
            return query
    known = ", ".join(q.name for q in ready_queries())
    raise QueryError(f"no ready query named {name!r}. Ready queries: {known}")


def parse_since(value: str, now: datetime) -> datetime:
    """`30m`, `24h`, `7d`, `2w` before `now`, or an ISO date or time (UTC when it has no zone)."""
    age = _AGE.fullmatch(value.strip())
    if age:
        return now - timedelta(**{_AGE_UNITS[age.group(2)]: int(age.group(1))})
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(
            f"--since {value!r} is neither an age (30m, 24h, 7d, 2w) nor an ISO time "
            "(2026-11-01 or 2026-11-01T08:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bind(query: ReadyQuery, options: Mapping[str, str | None], now: datetime) -> dict[str, object]:
    """The bound values of `query` from the command line's options (None: not given).

    QueryError when a required option is missing, or an option is given that the query does
    not take (it would silently not filter)."""
    given = {name for name, value in options.items() if value is not None}
    extra = sorted(given - set(query.params))
    if extra:
        takes = ", ".join(f"--{p}" for p in query.params) or "no options"
        raise QueryError(f"{query.name} does not take --{extra[0]} (it takes {takes})")
    missing = [name for name in query.required if name not in given]
    if missing:
        raise QueryError(f"{query.name} needs --{missing[0]}: {query.usage()}")
    values: dict[str, object] = {}
    for name in query.params:
        value = options.get(name)
        if value is not None and name == "since":
            values[name] = parse_since(value, now)
        elif value is not None and name == "severity" and value not in SEVERITIES:
            raise QueryError(f"--severity {value!r}: use one of {', '.join(SEVERITIES)}")
        else:
            values[name] = value
    return values
