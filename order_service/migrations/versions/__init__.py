"""Revisions of the order database, numbered 0001, 0002, ..."""
