"""Review rules (SPEC §2.2): what makes an order clean, and flash-sale per-buyer limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from order_service.domain.errors import CampaignLimit

if TYPE_CHECKING:
    from order_service.domain.order import Order

ADDRESS_FIELDS = ("name", "phone", "province", "city", "line1")
# A buyer note asking for a change needs a person (English and Chinese phrasings).
CHANGE_WORDS = re.compile(
    r"chang|modif|updat|replace|swap|instead|wrong|address|cancel|改|换|修改|地址|取消|别发|不要",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ReviewPolicy:
    """Configurable review rules; auto-review is off unless enabled."""

    auto_review: bool = False
    default_campaign_limit: int = 1
    campaign_limits: dict[str, int] = field(default_factory=dict)

    def limit(self, campaign_id: str) -> int:
        return self.campaign_limits.get(campaign_id, self.default_campaign_limit)


def buyer_keys(buyer: dict[str, Any], address: dict[str, Any]) -> list[tuple[str, str]]:
    """The identities a per-buyer limit counts across: buyer id, phone, normalised address."""
    keys = [("buyer", buyer.get("id", ""))]
    for phone in {buyer.get("phone", ""), address.get("phone", "")}:
        if phone:
            keys.append(("phone", re.sub(r"\D", "", phone)))
    addr = "|".join(
        re.sub(r"\s+", "", str(address.get(k, ""))).lower()
        for k in ("province", "city", "district", "line1")
    )
    if addr.strip("|"):
        keys.append(("address", addr))
    return [k for k in keys if k[1]]


def holds_campaign_quantity(stage: str) -> bool:
    """Whether an order's flash-sale quantity still counts against its buyer's limit: a
    cancelled order gives it back, so a buyer who cancelled may order again."""
    return stage != "cancelled"


def campaign_quantities(lines: list[dict[str, Any]]) -> dict[str, int]:
    qty: dict[str, int] = {}
    for line in lines:
        if line.get("campaign_id"):
            qty[line["campaign_id"]] = qty.get(line["campaign_id"], 0) + int(line["qty"])
    return qty


def campaign_breaches(
    lines: list[dict[str, Any]],
    prior: dict[tuple[str, str, str], int],
    keys: list[tuple[str, str]],
    policy: ReviewPolicy,
) -> list[dict[str, Any]]:
    """Breaches for this order's campaign lines given `prior[(campaign, kind, value)]` quantities
    bought by the same identities in other live orders."""
    flags = []
    for campaign, qty in campaign_quantities(lines).items():
        limit = policy.limit(campaign)
        worst = max((prior.get((campaign, k, v), 0) for k, v in keys), default=0)
        if qty + worst > limit:
            matched = [k for k, v in keys if prior.get((campaign, k, v), 0)]
            flags.append(
                {
                    "code": "campaign_limit",
                    "campaign_id": campaign,
                    "limit": limit,
                    "quantity": qty + worst,
                    "matched_by": matched or ["order"],
                }
            )
    return flags


def no_stock_flags(lines: list[dict[str, Any]], stock: Mapping[str, int]) -> list[dict[str, Any]]:
    """A `no_stock` flag for lines whose SKU no warehouse has (a known zero); a SKU whose
    stock was never announced is unknown and does not flag."""
    skus = sorted({ln["sku"] for ln in lines if ln.get("sku") and stock.get(ln["sku"]) == 0})
    return [{"code": "no_stock", "skus": skus}] if skus else []


def clean_problems(
    address: dict[str, Any],
    lines: list[dict[str, Any]],
    known_skus: set[str],
    note: str,
    flags: list[dict[str, Any]],
) -> list[str]:
    """Why an order is not clean for auto-review (empty list = clean)."""
    problems = [
        f"address.{f} missing" for f in ADDRESS_FIELDS if not str(address.get(f, "")).strip()
    ]
    unknown = sorted({ln["sku"] for ln in lines} - known_skus)
    if unknown:
        problems.append(f"unknown SKUs: {', '.join(unknown)}")
    if any(f["code"] == "campaign_limit" for f in flags):
        problems.append("campaign limit breached")
    for f in flags:
        if f["code"] == "no_stock":
            problems.append(f"no stock anywhere: {', '.join(f['skus'])}")
    if note and CHANGE_WORDS.search(note):
        problems.append("buyer note asks for a change")
    return problems


def auto_review(order: Order, policy: ReviewPolicy, catalog: Mapping[str, object]) -> None:
    """With auto-review on, approve a new order that needs no clerk (a clean address,
    SKUs of the catalog, no note, no flag); else note why it waits for one."""
    if not policy.auto_review:
        return
    problems = clean_problems(order.address, order.lines, set(catalog), order.note, order.flags)
    if problems:
        order.record("auto_review_skipped", "auto-review", problems=problems)
    else:
        order.approve("auto-review", auto=True)


def check_merge(orders: list[dict[str, Any]], policy: ReviewPolicy) -> None:
    """Refuse merging shipments that would get round a per-buyer campaign limit.

    `orders`: [{"order_id", "buyer_id", "lines"}]. Merging campaign orders of
    several buyer accounts into one shipment is refused outright; one buyer's
    orders are refused if their campaign quantities together exceed the limit.
    """
    buyers = {o["buyer_id"] for o in orders}
    totals: dict[str, int] = {}
    for o in orders:
        for campaign, qty in campaign_quantities(o["lines"]).items():
            totals[campaign] = totals.get(campaign, 0) + qty
    if totals and len(buyers) > 1:
        raise CampaignLimit(
            "merging flash-sale orders of several buyer accounts into one shipment is refused",
            campaigns=sorted(totals),
            buyers=sorted(buyers),
        )
    over = {c: q for c, q in totals.items() if q > policy.limit(c)}
    if over:
        raise CampaignLimit(
            "merged quantity exceeds the per-buyer campaign limit",
            campaigns=over,
        )
