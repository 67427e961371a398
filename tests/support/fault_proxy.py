"""A TCP proxy in front of a test server that a test can make hang or refuse.

`Mode.PASS` forwards bytes both ways; `Mode.HANG` accepts connections and never
answers (a server that takes the connection and then sits on it, as one that is
overloaded does); `Mode.REFUSE` stops listening, so connections are refused. The
proxy runs in threads of the test process on a port of its own, which stays the
same across modes.
"""

import enum
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from tests.support.processes import free_port

CHUNK = 65536


class Mode(enum.Enum):
    PASS = "pass"
    HANG = "hang"
    REFUSE = "refuse"


class FaultProxy:
    def __init__(self, target_port: int, mode: Mode = Mode.PASS) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.mode = Mode.PASS
        self._listener: socket.socket | None = None
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self.set_mode(mode)

    def set_mode(self, mode: Mode) -> None:
        """Switch to `mode`; connections held by HANG are closed on leaving it."""
        with self._lock:
            if mode is not Mode.HANG:
                for held in self._held:
                    with suppress(OSError):
                        held.close()
                self._held.clear()
            self.mode = mode
        if mode is Mode.REFUSE:
            self._stop_listening()
        elif self._listener is None:
            self._listen()

    def close(self) -> None:
        self.set_mode(Mode.REFUSE)

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _stop_listening(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _address = listener.accept()
            except OSError:
                return  # stopped listening
            with self._lock:
                if self.mode is Mode.HANG:
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@contextmanager
def fault_proxy(target_port: int, mode: Mode = Mode.PASS) -> Iterator[FaultProxy]:
    """A proxy to 127.0.0.1:`target_port` in `mode`, closed when the block ends."""
    proxy = FaultProxy(target_port, mode)
    try:
        yield proxy
    finally:
        proxy.close()
