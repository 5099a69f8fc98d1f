"""Event contracts: one module per producing service. Importing this registers them all."""

from shared.events import aftersales, orders, stops, warehouse

__all__ = ["aftersales", "orders", "stops", "warehouse"]
