"""The runner: starts the embedded broker (unless one is given), the three services and
the operations console."""

SERVICES = {
    "order": ("order_service.app:create_app", 8001),
    "warehouse": ("warehouse_service.app:create_app", 8002),
    "aftersales": ("aftersales_service.app:create_app", 8003),
}
CONSOLE_PORT = 8000  # the operations console (console/), started after the services
