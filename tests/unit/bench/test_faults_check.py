"""The fault suite's checker sees each kind of disagreement (no I/O: the pure comparisons)."""

import json
from collections import Counter
from decimal import Decimal

from bench.faults_check import Result, _after_sales_differs, _tasks_differ

ORDER = {
    "order_id": "O-1",
    "stage": "submitted",
    "total": "59.00",
    "lines": [{"sku": "SKU-7", "qty": 1}],
    "shipments": [
        {"shipment_id": "O-1-S1", "status": "submitted", "lines": [{"sku": "SKU-7", "qty": 1}]}
    ],
}
AFTER = {"synced": True, "total": Decimal("59.00"), "stage": "submitted"}
LINES = {("SKU-7", 1): 1}


def test_after_sales_view_agrees_or_names_the_difference():
    assert _after_sales_differs(ORDER, AFTER, Counter(LINES)) is None
    assert _after_sales_differs(ORDER, None, None) == "aftersales_unknown"
    assert _after_sales_differs(ORDER, AFTER | {"total": Decimal("0")}, Counter(LINES)) == (
        "aftersales_amount"
    )
    assert _after_sales_differs(ORDER, AFTER, Counter()) == "aftersales_lines"
    assert _after_sales_differs(ORDER, AFTER | {"stage": "synced"}, Counter(LINES)) == (
        "aftersales_stage"
    )


def test_warehouse_tasks_agree_or_name_the_difference():
    task = {"status": "queued", "lines": json.dumps([{"sku": "SKU-7", "qty": 1}])}
    assert _tasks_differ(ORDER, {"O-1-S1": task}) is None
    assert _tasks_differ(ORDER, {}) == "warehouse_task_missing"
    assert _tasks_differ(ORDER, {"O-1-S1": task | {"status": "shipped"}}) == "warehouse_status"
    assert _tasks_differ(ORDER, {"O-1-S1": task | {"lines": "[]"}}) == "warehouse_lines"


def test_a_result_passes_only_with_zeros_and_a_recovery_time():
    assert Result(acked=5, stored=5, seconds=1.0).ok
    assert not Result(acked=5, stored=5, seconds=None).ok
    assert not Result(seconds=1.0, dead_letters=1).ok
    assert not Result(seconds=1.0, views_differ=1).ok
