"""Use cases: one short async function each (load via the unit of work, call the domain,
store, commit)."""
