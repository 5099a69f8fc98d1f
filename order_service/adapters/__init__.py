"""Persistence and outbound adapters of order_service."""
