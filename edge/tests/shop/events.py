from edge.events import UserRegistered
from edge.messaging.handlers import handles
from tests.shop.models import Greeting


@handles(UserRegistered)
def greet(event: UserRegistered) -> None:
    if event.email.startswith("fail"):
        raise RuntimeError("the handler failed")
    Greeting.objects.create(email=event.email)
