"""Periodic jobs the tests give the relay (``EDGE["RELAY_PERIODIC_JOBS"]``)."""

from tests.shop.models import Greeting


def greet_the_night_shift() -> int:
    Greeting.objects.create(email="night-shift@example.com")
    return 1


def fail() -> None:
    raise RuntimeError("the job failed")
