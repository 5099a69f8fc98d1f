import pytest

from order_service.app import create_app
from shared.clock import ManualClock
from tests.integration.order_service.helpers import START
from tests.support import running


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def order_settings(make_settings):
    return make_settings("order")


@pytest.fixture
async def app(order_settings, clock):
    return create_app(order_settings, clock=clock)


@pytest.fixture
async def client(app):
    async with running(app) as c:
        yield c
