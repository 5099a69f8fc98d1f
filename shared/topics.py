"""Topic names. Keyed by order id, except the stop-shipment broadcast (keyed by stop id)."""

ORDERS = "orders"  # order_service → warehouse, after-sales
WAREHOUSE = "warehouse"  # warehouse_service → order, after-sales
AFTERSALES = "aftersales"  # aftersales_service → order
STOPS = "stop-shipments"  # broadcast: every warehouse instance, own consumer group
DEAD_LETTER = "dead-letter"  # poison messages with their error and original bytes

ALL = (ORDERS, WAREHOUSE, AFTERSALES, STOPS, DEAD_LETTER)
