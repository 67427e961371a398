"""Work started at the same moment in several threads, each with its own database
connection: how the tests race requests against each other."""

import threading
from collections.abc import Callable

from django.db import connection


def in_threads(*works: Callable[[], object]) -> list[BaseException]:
    """Run each of `works` in its own thread (and connection), released together;
    return what they raised."""
    barrier = threading.Barrier(len(works))
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            work()
        except BaseException as error:  # noqa: BLE001 (reported to the test)
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors
