"""Pure domain of the warehouse service: shipment tasks, holds, stop-shipment scopes."""
