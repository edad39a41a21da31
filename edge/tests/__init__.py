"""edge's own tests, in a small service of their own; its Celery app makes publish() send."""

from edge.celery import create_app

celery_app = create_app("edge")
