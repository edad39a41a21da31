"""The local SMTP server's handler: every message lands in a Maildir as it was received.

aiosmtpd's own Mailbox handler parses each message and writes it out again; under the
benchmark's load that doubled the sink's CPU, which the services share two cores with.
"""

import mailbox
import sys
from argparse import ArgumentParser
from pathlib import Path

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


def command(port: int, mail_dir: Path, address: str = "127.0.0.1") -> list[str]:
    """The command line of the SMTP server on ``address:port``, storing into ``mail_dir``; run
    it from the repository's root."""
    return [
        sys.executable,
        "-m",
        "aiosmtpd",
        "-n",
        "-l",
        f"{address}:{port}",
        "-c",
        f"{__name__}.Maildir",
        str(mail_dir),
    ]
