"""Every table's SQL yields the columns promised to analysts, with the contract's types."""

from __future__ import annotations

import pyarrow as pa
import pytest

from azlogs_pipeline.normalize.contract import CONTRACT, missing_columns
from azlogs_pipeline.normalize.schemas import table_schemas
from azlogs_pipeline.normalize.tables import TABLE_NAMES


def test_every_table_has_a_contract() -> None:
    assert set(CONTRACT) == set(TABLE_NAMES)


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_table_columns_cover_the_contract(table: str) -> None:
    assert missing_columns(table, table_schemas()[table].names) == []


def test_contract_types_of_signin_logs() -> None:
    schema = table_schemas()["signin_logs"]
    assert schema.field("error_code").type == pa.int32()
    assert schema.field("duration_ms").type == pa.int64()
    assert pa.types.is_list(schema.field("risk_event_types").type)
    assert pa.types.is_timestamp(schema.field("event_time").type)
