"""The local SMTP server of `make run` and `make bench`: what the services send lands, as
sent, in the Maildir the README points staff to."""

import mailbox
import smtplib
import subprocess
from email.message import EmailMessage
from pathlib import Path

from devstack import mail_sink
from devstack.infra import free_port, port_is_open
from devstack.processes import wait_until
from devstack.stack import ROOT


def test_a_message_lands_in_the_maildir_as_it_was_sent(tmp_path: Path):
    mail_dir, port = tmp_path / "mail", free_port()
    mailbox.Maildir(mail_dir, create=True)
    server = subprocess.Popen(mail_sink.command(port, mail_dir), cwd=ROOT)
    try:
        wait_until(lambda: port_is_open(port), timeout=15, what="the SMTP server")
        message = EmailMessage()
        message["Subject"] = "Your order 7 is confirmed"
        message["From"], message["To"] = "shop@example.com", "customer@example.com"
        message.set_content("Thank you.\n")
        message.add_alternative("<p>Thank you.</p>", subtype="html")
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.send_message(message)
            client.send_message(message)
    finally:
        server.terminate()
        server.wait(10)

    stored = list(mailbox.Maildir(mail_dir, create=False))
    assert len(stored) == 2
    assert stored[0]["Subject"] == "Your order 7 is confirmed"
    bodies = {part.get_content_type(): part.get_payload(decode=True) for part in stored[0].walk()}
    assert bodies["text/plain"] == b"Thank you.\n"
    assert bodies["text/html"] == b"<p>Thank you.</p>\n"
