"""Events published by aftersales_service on topic `aftersales`, keyed by order id."""

from decimal import Decimal

from shared.envelope import Payload, event


@event("aftersales.cancel_requested")
class CancelForRefund(Payload):
    """A refund needs the order stopped first; order_service applies its stage rule."""

    refund_id: str
    reason: str


@event("refund.issued")
class RefundIssued(Payload):
    refund_id: str
    amount: Decimal
    currency: str = "CNY"
    reason: str = ""
