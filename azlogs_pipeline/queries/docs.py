"""docs/queries.md from the ready queries: its introduction (everything before the first `## `
heading) is kept as written, one section per ready query follows.

    python -m azlogs_pipeline.queries.docs docs/queries.md    (or: make docs)
"""

from __future__ import annotations

import sys
from pathlib import Path

from azlogs_pipeline.queries import ReadyQuery, ready_queries


def section(query: ReadyQuery) -> str:
    number = f"{query.question}. " if query.question is not None else ""
    returns = ", ".join(f"`{column}`" for column in query.returns)
    return (
        f"## {number}{query.title}\n\n"
        f"`{query.usage()}`\n\n"
        f"Returns: {returns}\n\n"
        f"```sql\n{query.sql};\n```\n"
    )


def render(current: str) -> str:
    """`current` (the doc as it is) with its query sections rebuilt from the `.sql` files."""
    intro = current.split("\n## ", 1)[0].rstrip() + "\n"
    return "\n".join([intro, *(section(q) for q in ready_queries())])


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m azlogs_pipeline.queries.docs docs/queries.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    text = path.read_text(encoding="utf-8")
    rendered = render(text)
    if rendered != text:
        path.write_text(rendered, encoding="utf-8")
        print(f"rewrote {path} from {len(ready_queries())} ready queries")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
