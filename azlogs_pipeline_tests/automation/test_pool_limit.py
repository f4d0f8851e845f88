"""The lake writers' pool limit is created once by `azlogs run` before its drain workers start."""

from pathlib import Path

import pytest

from azlogs_pipeline.assets.ingest import raw_events
from azlogs_pipeline.instance import ensure_pool_limit, open_instance


def _limits(instance) -> dict[str, int]:  # type: ignore[no-untyped-def]
    return {limit.name: limit.limit for limit in instance.event_log_storage.get_pool_limits()}


def test_the_pool_limit_is_created_once_and_a_set_limit_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with open_instance(tmp_path) as instance:
        pool = raw_events.op.pool
        assert pool not in _limits(instance)
        ensure_pool_limit(instance, pool)
        assert _limits(instance)[pool] == instance.global_op_concurrency_default_limit
        instance.event_log_storage.set_concurrency_slots(pool, 1)
        ensure_pool_limit(instance, pool)
        assert _limits(instance)[pool] == 1
