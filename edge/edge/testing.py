"""pytest plugin shared by every service's own tests (``-p edge.testing`` in each pytest.ini).

Unit tests run Celery eagerly (Django's test set-up keeps email in memory); the end-to-end
tests use the real ones.
"""

import pytest
from pytest_django.fixtures import Settings


@pytest.fixture(autouse=True)
def _unit_test_settings(settings: Settings) -> None:
    # The manifest is built by collectstatic, which the unit tests do not run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    # Real hashing costs a quarter second a password; no test is about its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = True
