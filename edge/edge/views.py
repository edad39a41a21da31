"""JSON answers for the errors Django itself raises outside DRF (unknown URL, server error)."""

from django.http import HttpRequest, JsonResponse

NOT_FOUND = "Not found."
SERVER_ERROR = "Internal server error."


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": NOT_FOUND, "path": request.path}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": SERVER_ERROR}, status=500)
