"""The notify service's project package; loads the Celery app so that ``publish()`` can send."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
