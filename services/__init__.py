"""The runner: starts the embedded broker (unless one is given) and the three services."""

SERVICES = {
    "order": ("order_service.app:create_app", 8001),
    "warehouse": ("warehouse_service.app:create_app", 8002),
    "aftersales": ("aftersales_service.app:create_app", 8003),
}
