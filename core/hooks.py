"""Announcements one app makes and apps above it act on, without an upward import.

An app announces what happened, inside the transaction that made it happen, with a
frozen digest of the facts; the apps that care subscribe once, in their
AppConfig.ready. A receiver runs synchronously in that transaction: what it writes
commits or rolls back with the announcement, and an error in it fails the whole
change, so nothing is half handed over.

Every hook is declared in the announcing app's `hooks` module (intake/hooks.py) and
subscribed to in the receiving app's apps.py: those two places list all of them.
"""

from collections.abc import Callable
from typing import Generic, TypeVar

Digest = TypeVar("Digest")


class Hook(Generic[Digest]):
    """One kind of announcement: its receivers, called in subscription order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Callable[[Digest], object]] = []

    def subscribe(self, receiver: Callable[[Digest], object]) -> None:
        """Call `receiver` with every announcement; subscribing twice is once."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)

    def announce(self, digest: Digest) -> None:
        """Hand `digest` to every receiver now, in the caller's transaction."""
        for receiver in self._receivers:
            receiver(digest)

    def __repr__(self) -> str:
        return f"Hook({self.name!r})"


Question = TypeVar("Question")
Answer = TypeVar("Answer")


class Provider(Generic[Question, Answer]):
    """A question an app asks of the app above it, which answers it (at most one
    answerer). Unanswered, or with no answerer registered, the answer is None: the
    asking app carries on without it.

    Declared, like hooks, in the asking app's `hooks` module; the answerer is
    registered in its own app's apps.py.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._answerer: Callable[[Question], Answer | None] | None = None

    def answer_with(self, answerer: Callable[[Question], Answer | None]) -> None:
        """Make `answerer` the one that answers; registering again replaces it."""
        self._answerer = answerer

    def ask(self, question: Question) -> Answer | None:
        return None if self._answerer is None else self._answerer(question)

    def __repr__(self) -> str:
        return f"Provider({self.name!r})"
