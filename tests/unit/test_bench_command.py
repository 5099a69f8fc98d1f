"""The command a benchmark prints to re-run itself."""

import sys
import types

from bench.common import command


def test_command_names_the_module_when_run_with_dash_m(monkeypatch):
    main = types.ModuleType("__main__")
    main.__spec__ = types.SimpleNamespace(name="bench.relay")
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("KAFKA_IDEMPOTENCE", raising=False)
    assert command() == ".venv/bin/python -m bench.relay"


def test_command_names_the_file_when_run_as_a_script(monkeypatch):
    """`python bench/relay.py` has no module spec: the file is named, nothing crashes."""
    main = types.ModuleType("__main__")
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", ["bench/relay.py"])
    monkeypatch.setenv("KAFKA_IDEMPOTENCE", "true")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("BENCH_DATABASE_URL", raising=False)
    assert command() == "KAFKA_IDEMPOTENCE=true .venv/bin/python bench/relay.py"
