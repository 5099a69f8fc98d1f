"""The operations console (SPEC §9): server-rendered pages over the services' public APIs.

It never opens a service's database: every page is one or a few HTTP calls to
order_service, warehouse_service and aftersales_service with the signed-in person's API
key, and every refusal is shown with the service's own `message`.
"""
