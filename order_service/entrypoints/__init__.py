"""HTTP routers and Kafka consumers of order_service."""
