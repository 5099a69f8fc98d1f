"""Topic names. Keyed by order id, except the stop-shipment broadcast (keyed by stop id)."""

ORDERS = "orders"  # order_service → warehouse, after-sales
WAREHOUSE = "warehouse"  # warehouse_service → order, after-sales
AFTERSALES = "aftersales"  # aftersales_service → order
STOPS = "stop-shipments"  # broadcast: every warehouse instance, own consumer group
DEAD_LETTER = "dead-letter"  # poison messages with their error and original bytes

ALL = (ORDERS, WAREHOUSE, AFTERSALES, STOPS, DEAD_LETTER)


def replication_for(setting: int | None, broker_default: int | None, brokers: int) -> int:
    """The replication factor new topics get.

    `KAFKA_REPLICATION` if set; else the cluster's own `default.replication.factor`;
    else (a broker that does not describe its configs, such as Tansu) min(3, brokers).
    """
    if setting is not None:
        return setting
    if broker_default is not None and broker_default > 0:
        return broker_default
    return max(1, min(3, brokers))


def min_insync_for(setting: int | None, replication: int) -> int | None:
    """`min.insync.replicas` for new topics; None leaves the broker's default.

    `KAFKA_MIN_INSYNC_REPLICAS` if set, else 2 when the replication is 3 or more, so
    that an acknowledged event is on two brokers and one broker may be lost.
    """
    if setting is not None:
        return setting
    return 2 if replication >= 3 else None
