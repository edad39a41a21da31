"""Emails go out over one SMTP connection per worker thread, kept open between them."""

import socket
import threading
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from edge.events import UserRegistered
from edge.messaging.services import event_handle
from notify.models import Notification


class CountingSink:
    """A real SMTP server that counts the connections it is asked for."""

    def __init__(self) -> None:
        self.connections = 0
        self.subjects: list[str] = []
        self._lock = threading.Lock()

    async def handle_EHLO(self, server: SMTP, session, envelope, hostname, responses) -> list[str]:
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session, envelope) -> str:
        with self._lock:
            self.subjects.append(str(message_from_bytes(envelope.content)["Subject"]))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    def __init__(self, sink: CountingSink, port: int) -> None:
        self.sink, self.port = sink, port
        self.controller = Controller(sink, hostname="127.0.0.1", port=port)
        self.controller.start()

    def restart(self) -> None:
        """Stop and start again on the same port (a restart, an idle timeout): clients' connections die."""
        self.controller.stop()
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()


@pytest.fixture
def smtp_server(settings):
    server = SmtpServer(CountingSink(), _free_port())
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": server.port, "timeout": 5},
        }
    }
    yield server
    server.controller.stop()


def _welcome(user_id: int) -> None:
    event_handle(message=UserRegistered(user_id=user_id, email=f"user{user_id}@example.com").to_message())


def test_emails_share_one_connection(db, smtp_server):
    sink = smtp_server.sink

    for user_id in range(1, 4):
        _welcome(user_id)

    assert sink.subjects == ["Welcome to Commerce"] * 3
    assert sink.connections == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_connection_the_server_dropped_is_opened_again(db, smtp_server):
    sink = smtp_server.sink
    _welcome(1)

    smtp_server.restart()
    _welcome(2)

    assert sink.subjects == ["Welcome to Commerce"] * 2
    assert sink.connections == 2
    assert Notification.objects.filter(status="sent").count() == 2
