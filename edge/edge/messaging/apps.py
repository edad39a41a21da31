from importlib import import_module

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class MessagingConfig(AppConfig):
    name = "edge.messaging"
    label = "messaging"
    verbose_name = "Messaging"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each service's handlers live in ``<app>/events.py``, registered with ``@handles``.
        autodiscover_modules("events")
        # The task that carries events, registered in every process that sends it (web, relay),
        # not only in the workers that run it: the tracing's instrumentation (edge.tracing) finds
        # a sent task by its name, and leaves the span of a send it cannot find open for good.
        import_module("edge.messaging.tasks")
