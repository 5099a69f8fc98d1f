"""Revisions of the aftersales database, numbered 0001, 0002, ..."""
