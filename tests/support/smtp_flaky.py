"""aiosmtpd handlers that misbehave: one refuses the first messages with a temporary
error, one keeps each message and then is slow to say so.

Run in the SMTP server's own process (tests.support.smtp.running_smtp_server with
`refuse_first` or `answer_after`):
`python -m aiosmtpd -c tests.support.smtp_flaky.FlakyMailbox DIR N`.
"""

import asyncio
from pathlib import Path
from typing import Any

from aiosmtpd.handlers import Mailbox


class FlakyMailbox(Mailbox):
    """Answers 451 to the first `refusals` messages, then keeps them in a Maildir."""

    def __init__(self, mail_dir: str, refusals: str = "0") -> None:
        super().__init__(Path(mail_dir))
        self.refusals_left = int(refusals)

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.refusals_left > 0:
            self.refusals_left -= 1
            return "451 4.3.0 Try again later"
        result: str = await super().handle_DATA(server, session, envelope)
        return result

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> "FlakyMailbox":
        return cls(*args)


class SlowMailbox(Mailbox):
    """Keeps each message in a Maildir, then waits `delay` seconds before saying
    250: a sender stopped meanwhile has delivered a message it does not know of."""

    def __init__(self, mail_dir: str, delay: str = "0") -> None:
        super().__init__(Path(mail_dir))
        self.delay = float(delay)

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        result: str = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return result

    @classmethod
    def from_cli(cls, parser: Any, *args: str) -> "SlowMailbox":
        return cls(*args)
