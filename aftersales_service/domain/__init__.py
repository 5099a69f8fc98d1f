"""Pure after-sales rules: standard library and `transitions` only."""
