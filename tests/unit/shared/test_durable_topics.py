"""Topics take the cluster's replication; min.insync.replicas 2 from replication 3 on."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import shared.bus
from shared import topics
from shared.bus import Bus, ensure_topics
from shared.settings import Settings


def test_replication_is_the_setting_else_the_cluster_default_else_up_to_three():
    assert topics.replication_for(2, 3, 3) == 2
    assert topics.replication_for(None, 3, 3) == 3
    assert topics.replication_for(None, None, 5) == 3  # the broker does not say (Tansu)
    assert topics.replication_for(None, None, 1) == 1


def test_min_insync_is_two_from_replication_three_unless_set():
    assert topics.min_insync_for(None, 3) == 2
    assert topics.min_insync_for(None, 1) is None
    assert topics.min_insync_for(3, 5) == 3


def test_kafka_settings_defaults_are_documented_ones():
    s = Settings(service="order", _env_file=None)
    assert s.kafka_replication is None and s.kafka_min_insync_replicas is None
    assert s.kafka_max_request_bytes == 1024 * 1024
    assert s.relay_stale_seconds == 30.0 and s.relay_send_timeout_ms == 15000


class FakeAdmin:
    """An admin client of a three-broker cluster whose default.replication.factor is 3."""

    created: list = []

    def __init__(self, *, existing=(), default_rf: str | None = "3", **kwargs):
        self.existing, self.default_rf = existing, default_rf

    async def start(self):
        return None

    async def close(self):
        return None

    async def describe_cluster(self):
        return {"controller_id": 1, "brokers": [{"node_id": n} for n in (1, 2, 3)]}

    async def describe_configs(self, resources):
        if self.default_rf is None:
            raise ConnectionError("closed")
        entry = {"config_names": "default.replication.factor", "config_value": self.default_rf}
        body = {"resources": [{"config_entries": [entry]}]}
        return [SimpleNamespace(to_object=lambda: body)]

    async def describe_topics(self):
        return [
            {"topic": name, "partitions": [{"replicas": [1]}, {"replicas": [1]}]}
            for name in self.existing
        ]

    async def create_topics(self, wanted):
        FakeAdmin.created = list(wanted)
        return SimpleNamespace(topic_errors=[(t.name, 0, None) for t in wanted])


@pytest.fixture
def admin(monkeypatch):
    FakeAdmin.created = []
    options: dict = {}
    monkeypatch.setattr(shared.bus, "AIOKafkaAdminClient", lambda **kw: FakeAdmin(**options, **kw))
    return options


async def test_topics_are_created_with_the_clusters_replication_and_min_insync_two(admin):
    await ensure_topics(Settings(service="order", _env_file=None))
    assert {t.name for t in FakeAdmin.created} == set(topics.ALL)
    assert {
        (t.replication_factor, t.topic_configs.get("min.insync.replicas"))
        for t in FakeAdmin.created
    } == {(3, "2")}


async def test_explicit_replication_and_min_insync_win(admin):
    admin["default_rf"] = None  # a broker that will not describe its configs
    settings = Settings(
        service="order", _env_file=None, KAFKA_REPLICATION=1, KAFKA_MIN_INSYNC_REPLICAS=1
    )
    await ensure_topics(settings)
    assert {
        (t.replication_factor, t.topic_configs.get("min.insync.replicas"))
        for t in FakeAdmin.created
    } == {(1, "1")}


async def test_an_existing_topic_below_the_cluster_replication_is_warned_about(admin, caplog):
    admin["existing"] = topics.ALL
    await ensure_topics(Settings(service="order", _env_file=None))
    assert FakeAdmin.created == []
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("orders has replication 1, below 3" in m for m in warned), warned


async def test_the_producer_refuses_what_the_broker_would_refuse(monkeypatch):
    made: list[dict] = []

    class Producer:
        def __init__(self, **kwargs):
            made.append(kwargs)

        async def start(self):
            return None

    async def no_topics(settings):
        return None

    monkeypatch.setattr(shared.bus, "AIOKafkaProducer", Producer)
    monkeypatch.setattr(shared.bus, "ensure_topics", no_topics)
    await Bus(Settings(service="order", _env_file=None)).run()
    assert made[0]["max_request_size"] == 1024 * 1024 and made[0]["acks"] == "all"
