"""Contracts and plumbing shared by the three services: never a business rule."""
