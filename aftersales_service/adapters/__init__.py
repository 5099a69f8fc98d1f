"""Persistence for after-sales: tables, repositories, unit of work, analytics queries."""
