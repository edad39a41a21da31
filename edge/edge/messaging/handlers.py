"""The registry of event handlers: ``@handles(UserRegistered)`` in a service's ``events.py``."""

from collections.abc import Callable
from dataclasses import dataclass

from edge.events import Event, UnknownEventType

Handler = Callable[[Event], None]

NO_HANDLER = "This service has no handler for {type!r}; check the subscribers in edge.events."


@dataclass(frozen=True)
class Registration:
    handler: Handler
    # Runs when the event comes again after it was handled: for effects a handler commits
    # first and completes after (an email), which a delivery that died between left undone.
    on_repeat: Handler | None = None


_registrations: dict[str, Registration] = {}


def handles(*event_classes: type[Event], on_repeat: Handler | None = None) -> Callable[[Handler], Handler]:
    """Register the decorated function as this service's one handler of these events."""

    def register(handler: Handler) -> Handler:
        for event_class in event_classes:
            _registrations[event_class.type] = Registration(handler, on_repeat)
        return handler

    return register


def registration_for(event_type: str) -> Registration:
    try:
        return _registrations[event_type]
    except KeyError:
        # A type this service does not handle is as unknown to it as one no contract names.
        raise UnknownEventType(NO_HANDLER.format(type=event_type)) from None
