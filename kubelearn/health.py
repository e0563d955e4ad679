"""A health endpoint for load balancers and docker-compose: is the database answering?"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database answers; the cache is reported but only degrades, never fails."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:
        logger.error("Health check: database unavailable: %s", exc)
        checks["database"] = "unavailable"
    try:
        cache.set("healthz", "ok", timeout=5)
        checks["cache"] = "ok" if cache.get("healthz") == "ok" else "degraded"
    except Exception as exc:
        logger.warning("Health check: cache unavailable: %s", exc)
        checks["cache"] = "unavailable"
    status = 200 if checks["database"] == "ok" else 503
    return JsonResponse({"status": "ok" if status == 200 else "failing", **checks}, status=status)
