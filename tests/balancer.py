"""A round-robin TCP balancer: the job runner's one address for the workers of several
Odoo servers, as a load balancer spreads them over machines."""

import contextlib
import itertools
import socket
import threading


class Balancer:
    def __init__(self, backends):
        self.backends = itertools.cycle(list(backends))
        self._lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, name="rdm-balancer", daemon=True).start()

    def _next(self):
        with self._lock:
            return next(self.backends)

    def _accept(self):
        while True:
            try:
                client, _address = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), daemon=True).start()

    def _relay(self, client):
        backend = self._next()
        try:
            upstream = socket.create_connection(("127.0.0.1", backend), timeout=600)
        except OSError:  # a backend down: the next one takes the connection
            backend = self._next()
            upstream = socket.create_connection(("127.0.0.1", backend), timeout=600)
        pipes = [(client, upstream), (upstream, client)]
        threads = [threading.Thread(target=_pipe, args=pair, daemon=True) for pair in pipes]
        for thread in threads:
            thread.start()

    def close(self):
        self.server.close()


def _pipe(source, destination):
    with contextlib.suppress(OSError):  # either side closed: the relay ends
        while data := source.recv(65536):
            destination.sendall(data)
    for sock in (source, destination):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
