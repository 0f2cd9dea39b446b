"""A TCP relay to the test server that goes away on the Nth `_bulk_docs` request.

It stands for a database that becomes unreachable in the middle of an apply: the
listener closes and every open connection is cut, so later requests are refused.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class VanishingRelay:
    def __init__(self, target_port: int, vanish_on_bulk: int) -> None:
        self.target_port = target_port
        self.vanish_on_bulk = vanish_on_bulk
        self.bulks = 0
        self.lock = threading.Lock()
        self.sockets: list[socket.socket] = []
        self.down = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.down.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target_port))
            with self.lock:
                self.sockets += [client, server]
                if self.down.is_set():  # vanished while this connection was accepted
                    self._close_all()
                    return
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        while not self.down.is_set():
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                return
            if requests and b"_bulk_docs" in data:
                with self.lock:
                    self.bulks += 1
                    vanish = self.bulks >= self.vanish_on_bulk
                if vanish:
                    self.vanish()
                    return
            try:
                sink.sendall(data)
            except OSError:
                return

    def vanish(self) -> None:
        self.down.set()
        with contextlib.suppress(OSError):
            self.listener.close()
        with self.lock:
            self._close_all()

    def _close_all(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
