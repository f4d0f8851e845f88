"""Every Dagster evaluation context this project builds is closed by a ``with``.

A `build_schedule_context(...)` or `build_sensor_context(...)` left open is finalized by the
garbage collector whenever it runs, and its finalizer puts back the DefsStateStorage current when
it was built: in a later test (or a later run in one process), `materialize` then reaches a dead
instance ("Attempted to resolve undefined DagsterInstance weakref"). Collecting after every test
would catch it at run time but costs more than the fast suite itself, so the rule is checked here.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    path
    for folder in ("azlogs_pipeline", "azlogs_pipeline_tests", "bench")
    for path in (ROOT / folder).rglob("*.py")
)


def _unclosed_contexts(tree: ast.AST) -> list[int]:
    """Lines that call ``build_*_context`` other than as a ``with`` item's expression."""
    closed = {
        id(item.context_expr)
        for node in ast.walk(tree)
        if isinstance(node, ast.With | ast.AsyncWith)
        for item in node.items
    }
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or id(node) in closed:
            continue
        name = (
            node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        )
        if name.startswith("build_") and name.endswith("_context"):
            lines.append(node.lineno)
    return lines


def test_dagster_contexts_are_built_in_a_with() -> None:
    unclosed = {
        str(path.relative_to(ROOT)): lines
        for path in SOURCES
        if (lines := _unclosed_contexts(ast.parse(path.read_text(), str(path))))
    }
    assert not unclosed, f"build_*_context outside a `with` (file: lines): {unclosed}"


def test_the_rule_sees_an_unclosed_context() -> None:
    source = "ctx = dg.build_sensor_context(instance=i)\nwith dg.build_schedule_context() as c:\n    pass\n"
    assert _unclosed_contexts(ast.parse(source)) == [1]
