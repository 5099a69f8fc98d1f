"""The order domain: pure Python and `transitions` only."""
