"""Warehouse service: shipment tasks, scanner API, holds and the stop-shipment broadcast."""
