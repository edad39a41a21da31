"""The orders service's settings keep the invariants edge checks (edge.checks: cookies, queue, ...)."""

from django.core.management import call_command


def test_the_settings_pass_every_system_check(db):
    # Raises SystemCheckError, naming each broken one (edge.E001...), when any fails.
    call_command("check", fail_level="WARNING", verbosity=0)
