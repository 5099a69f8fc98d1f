"""order_service: the order lifecycle, platform webhooks, review, submission and CS answers."""
