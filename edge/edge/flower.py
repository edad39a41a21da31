"""The Celery app that Flower watches the system with: ``celery -A edge.flower flower``.

It is no service's: it reads the broker from ``CELERY_BROKER_URL`` (Flower's own Redis user,
devstack/infra.py) and runs no task. kombu sweeps the messages lost with a consumer back onto their
queues from the keys named below; Flower's consumers (the workers' events, the answers to its
inspections) acknowledge nothing, so its keys stay empty, and its user needs no write on the
services' own (``unacked``, the queues).
"""

from celery import Celery

app = Celery("flower")
app.conf.broker_transport_options = {
    "unacked_key": "flower.unacked",
    "unacked_index_key": "flower.unacked_index",
    "unacked_mutex_key": "flower.unacked_mutex",
}
