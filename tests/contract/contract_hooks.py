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
