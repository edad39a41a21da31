"""``/api/<service>/health/``: the database and Redis as JSON, 503 when either is down."""

import asyncio
from typing import Any

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from health_check.checks import Database
from health_check.contrib.redis import Redis
from health_check.views import HealthCheckView
from redis.asyncio import Redis as RedisClient

from edge.conf import edge_settings


def _redis_client() -> RedisClient:
    return RedisClient.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


# A read with no effect: no CSRF token to ask for, so a POST hears 405, not Django's HTML 403.
@method_decorator(csrf_exempt, name="dispatch")
class HealthView(HealthCheckView):
    http_method_names = ["get", "head", "options"]
    checks = (
        ("database", Database),
        ("redis", Redis, {"client_factory": _redis_client}),
    )

    def get_checks(self) -> Any:
        for name, check, *options in self.checks:
            yield name, check(**(options[0] if options else {}))

    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        # Django's answer has no body; every API answer is JSON.
        response = JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'},
            status=405,
            headers={"Allow": ", ".join(self._allowed_methods())},
        )

        async def answer() -> JsonResponse:
            return response

        return answer()

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        names, checks = zip(*self.get_checks(), strict=True)
        with self.get_executor() as executor:
            results = await asyncio.gather(*(check.get_result(executor) for check in checks))
        report = {
            name: str(result.error) if result.error else "ok"
            for name, result in zip(names, results, strict=True)
        }
        healthy = not any(result.error for result in results)
        return JsonResponse(
            {
                "service": edge_settings.SERVICE_NAME,
                "status": "ok" if healthy else "unavailable",
                "checks": report,
            },
            status=200 if healthy else 503,
        )
