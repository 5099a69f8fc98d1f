"""Revisions of the warehouse database, numbered 0001, 0002, ..."""
