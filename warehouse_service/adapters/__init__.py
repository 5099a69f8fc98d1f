"""Persistence of the warehouse service: tables, repositories, unit of work."""
