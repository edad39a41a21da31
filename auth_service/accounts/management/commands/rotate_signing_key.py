"""Rotates auth's token signing key: new tokens get the new kid, earlier ones stay valid until they expire."""

from typing import Any

from django.core.management.base import BaseCommand

from accounts.keys import signing_key_exists, signing_key_rotate


class Command(BaseCommand):
    help = "Make a new RS256 signing key current; the previous public keys stay published."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-missing", action="store_true", help="Only create the first key (for a fresh deployment)."
        )

    def handle(self, *args: Any, if_missing: bool, **options: Any) -> None:
        if if_missing and signing_key_exists():
            self.stdout.write("A signing key exists; nothing to do.")
            return
        kid = signing_key_rotate()
        self.stdout.write(f"New signing key {kid} is current.")
