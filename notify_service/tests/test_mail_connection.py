"""Emails go out over one SMTP connection per worker thread, kept open between them, each
after its notification's row has committed."""

import asyncio
import socket
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from django.db import connection

from edge.events import UserRegistered
from edge.messaging.services import event_handle
from edge.messaging.tasks import handle_event
from edge.testing import signed_by_producer
from notify.models import Notification


class CountingSink:
    """A real SMTP server that counts the connections it is asked for, and looks up, on a
    connection of its own, what the database holds of each notification as its email arrives."""

    def __init__(self) -> None:
        self.connections = 0
        self.subjects: list[str] = []
        # (Message-ID, the status of the notification with that Message-ID, as committed).
        self.recorded: list[tuple[str, str | None]] = []
        # Cleared, the server keeps each email it took unanswered until it is set again.
        self.answering = threading.Event()
        self.answering.set()
        self.took_one = threading.Event()
        self._lock = threading.Lock()

    async def handle_EHLO(self, server: SMTP, session, envelope, hostname, responses) -> list[str]:
        with self._lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server: SMTP, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        # Folded onto a line of its own when long, as RFC 5322 allows.
        message_id = message["Message-ID"].strip()
        status = await asyncio.to_thread(_committed_status, message_id)
        with self._lock:
            self.subjects.append(str(message["Subject"]))
            self.recorded.append((message_id, status))
        self.took_one.set()
        await asyncio.to_thread(self.answering.wait, 10)
        return "250 Message accepted for delivery"


def _committed_status(message_id: str) -> str | None:
    """What another connection sees: only what has committed."""
    try:
        by_message_id = {n.message_id: n.status for n in Notification.objects.all()}
        return by_message_id.get(message_id)
    finally:
        connection.close()


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


def test_a_notification_is_committed_before_its_email_leaves(transactional_db, smtp_server):
    _welcome(1)

    notification = Notification.objects.get()
    # Recorded, and not yet marked sent: that commits once the server has answered.
    assert smtp_server.sink.recorded == [(notification.message_id, "pending")]
    assert notification.status == "sent"


def test_emails_share_one_connection(transactional_db, smtp_server):
    sink = smtp_server.sink

    for user_id in range(1, 4):
        _welcome(user_id)

    assert sink.subjects == ["Welcome to Commerce"] * 3
    assert sink.connections == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_connection_the_server_dropped_is_opened_again(transactional_db, smtp_server):
    sink = smtp_server.sink
    _welcome(1)

    smtp_server.restart()
    _welcome(2)

    assert sink.subjects == ["Welcome to Commerce"] * 2
    assert sink.connections == 2
    assert Notification.objects.filter(status="sent").count() == 2


def _deliver_in_a_thread(message: dict) -> threading.Thread:
    def deliver() -> None:
        try:
            handle_event.delay(message, **signed_by_producer(message))
        finally:
            connection.close()

    thread = threading.Thread(target=deliver)
    thread.start()
    return thread


def test_a_second_delivery_of_an_event_waits_for_its_email_in_flight_and_sends_none(
    transactional_db, smtp_server
):
    sink = smtp_server.sink
    sink.answering.clear()
    message = UserRegistered(user_id=1, email="user1@example.com").to_message()

    first = _deliver_in_a_thread(message)
    assert sink.took_one.wait(5)
    # The event is handled and its email not yet marked sent: the second delivery sees it
    # unsent, and waits on the row the first holds until the server answers.
    second = _deliver_in_a_thread(message)
    second.join(1)
    assert second.is_alive()
    assert len(sink.subjects) == 1
    sink.answering.set()
    first.join(10)
    second.join(10)

    assert sink.subjects == ["Welcome to Commerce"]
    assert Notification.objects.get().status == "sent"
