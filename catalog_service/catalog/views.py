"""catalog's endpoint for the gateways, outside its API and never routed by them."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from catalog.cache import cache_version


@require_GET
def cache_version_current(request: HttpRequest) -> HttpResponse:
    """The cache version as committed, polled by every gateway (nginx/catalog_version.lua).

    Read from the database each time, never from a cache: a gateway's lease counts on this
    answer showing every commit made before the poll was sent.
    """
    return HttpResponse(str(cache_version()), content_type="text/plain")
