"""Pages of products whose size the client may choose, up to a cap."""

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

PAGE_SIZE_INVALID = "Enter a whole number from 1 to {max}."


class CappedPageNumberPagination(PageNumberPagination):
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:
        return settings.CATALOG_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        # DRF quietly clamps a bad page size; a client asking for 10,000 rows should hear why not.
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isdigit() or not 1 <= int(raw) <= self.max_page_size:
            raise ValidationError(
                {self.page_size_query_param: [PAGE_SIZE_INVALID.format(max=self.max_page_size)]}
            )
        return int(raw)
