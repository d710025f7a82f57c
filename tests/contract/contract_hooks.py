"""schemathesis hooks for rules OpenAPI cannot state, loaded with ``SCHEMATHESIS_HOOKS=contract_hooks``.

Each hook encodes a rule the document does state in prose, and only keeps schemathesis from calling a request
"schema-valid" when the document's own description says it is not. None of them drops an invalid request
(negative cases all go out) or changes what a check accepts.
"""

from __future__ import annotations

import schemathesis
from schemathesis.generation import GenerationMode


def _is_positive(case) -> bool:
    meta = case.meta
    return meta is None or meta.generation.mode == GenerationMode.POSITIVE


@schemathesis.hook("filter_case").apply_to(method="GET", path="/api/weather")
def city_or_coordinates(context, case) -> bool:
    """GET /api/weather: `city`, or `lat` and `lon` together (openapi/weather-dashboard.yaml, getWeather)."""
    if not _is_positive(case):
        return True
    query = case.query or {}
    has_lat, has_lon = "lat" in query, "lon" in query
    return has_lat == has_lon and (has_lat or "city" in query)


# The shop (openapi/shop.yaml). The contract suite serves it with this webhook signing secret (DOCUMENTS in
# test_openapi_contracts.py).
SHOP_WEBHOOK_SECRET = "whsec_contract_suite_secret"


@schemathesis.hook
def before_call(context, case, kwargs) -> None:
    """Two rules of openapi/shop.yaml stated in prose, applied to the cases schemathesis calls schema-valid only.

    - POST /shop/webhooks/stripe: `Stripe-Signature` must be Stripe's HMAC of the very body sent, made with the
      endpoint's secret — something a generator cannot produce. A positive case is signed here the way Stripe signs
      (over the bytes `requests` sends for the generated JSON), so the server's acceptance is checked; negative
      cases go out as generated and must be refused.
    - POST /shop/api/orders: an `Idempotency-Key` must be unique per order one means to create (a reused key with
      another body is the documented 422). A positive case with a key gets a fresh one; negative cases keep theirs.
    """
    if not _is_positive(case):
        return
    path, method = case.operation.path, case.operation.method.upper()
    if method == "POST" and path == "/shop/webhooks/stripe":
        import stripe
        from requests.compat import json as complexjson

        # What `requests` sends for `json=` (schemathesis's JSON serializer), so the signature covers those bytes.
        payload = complexjson.dumps(case.body, allow_nan=False)
        header = stripe.WebhookSignature.generate_signature_header(payload, SHOP_WEBHOOK_SECRET)
        case.headers = {**(case.headers or {}), "Stripe-Signature": header}
    elif method == "POST" and path == "/shop/api/orders" and "Idempotency-Key" in (case.headers or {}):
        import uuid

        case.headers = {**case.headers, "Idempotency-Key": str(uuid.uuid4())}
