"""Delete every expired idempotency key (requests also prune a batch now and then)."""

from typing import Any

from django.core.management.base import BaseCommand

from edge.idempotency.services import idempotency_keys_prune


class Command(BaseCommand):
    help = "Delete idempotency keys older than EDGE['IDEMPOTENCY_KEY_TTL_SECONDS'] (a day by default)."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = idempotency_keys_prune()
        self.stdout.write(f"{deleted} expired idempotency key(s) deleted.")
