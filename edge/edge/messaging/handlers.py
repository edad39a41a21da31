"""The registry of event handlers: ``@handles(UserRegistered)`` in a service's ``events.py``."""

from collections.abc import Callable

from edge.events import Event, UnknownEventType

Handler = Callable[[Event], None]

_handlers: dict[str, Handler] = {}

NO_HANDLER = "This service has no handler for {type!r}; check the subscribers in edge.events."


def handles(*event_classes: type[Event]) -> Callable[[Handler], Handler]:
    """Register the decorated function as this service's one handler of these events."""

    def register(handler: Handler) -> Handler:
        for event_class in event_classes:
            _handlers[event_class.type] = handler
        return handler

    return register


def handler_for(event_type: str) -> Handler:
    try:
        return _handlers[event_type]
    except KeyError:
        # A type this service does not handle is as unknown to it as one no contract names.
        raise UnknownEventType(NO_HANDLER.format(type=event_type)) from None
