"""The local SMTP server's handler: every message lands in a Maildir as it was received.

aiosmtpd's own Mailbox handler parses each message and writes it out again; under the
benchmark's load that doubled the sink's CPU, which the services share two cores with.
"""

import mailbox
from argparse import ArgumentParser

from aiosmtpd.smtp import SMTP, Envelope, Session


class Maildir:
    def __init__(self, path: str) -> None:
        self.mailbox = mailbox.Maildir(path)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.mailbox.add(envelope.original_content)
        return "250 Message accepted for delivery"

    @classmethod
    def from_cli(cls, parser: ArgumentParser, *args: str) -> "Maildir":
        if len(args) != 1:
            parser.error("The one argument is the Maildir's path")
        return cls(args[0])
