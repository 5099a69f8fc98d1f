"""HTTP routes and event consumers: parse, call one handler, map errors."""
