"""Staff see the keys each service keeps and the responses they replay."""

from django.contrib import admin
from django.http import HttpRequest

from edge.idempotency.models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "user_id", "endpoint", "response_status", "created_at", "completed_at"]
    list_filter = ["endpoint"]
    search_fields = ["key", "=user_id"]
    readonly_fields = [field.name for field in IdempotencyKey._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
