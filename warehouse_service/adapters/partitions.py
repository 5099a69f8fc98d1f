"""Which partition the producer puts a key on (aiokafka's default partitioner).

Batched events that list many orders are keyed by one of them and only list
orders of that same partition, so each order's events stay in one ordered log.
"""

from __future__ import annotations

from aiokafka.partitioner import murmur2


def partition_of(key: str, partitions: int) -> int:
    """`murmur2(key) & 0x7fffffff % partitions`, as aiokafka and the Java client do."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % max(partitions, 1)
