"""The auth service's Celery app."""

from edge.celery import create_app

app = create_app("auth")
