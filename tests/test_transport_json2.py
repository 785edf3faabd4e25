"""The JSON-2 transport (Odoo 19+) against a stand-in HTTP server speaking its protocol.

No Odoo 19 source is available here; the stand-in answers the way Odoo 19's ``/json/2``
controller does (named arguments, bearer API key, JSON error bodies with status codes).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ..engine.transport import RemoteError, make_transport

API_KEY = "0123456789abcdef-api-key"
PARTNER_IDS = list(range(3, 28))


class FakeJson2Handler(BaseHTTPRequestHandler):
    requests_seen = []

    def log_message(self, *args):
        pass

    def _answer(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/web/version":
            return self._answer(
                200, {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
            )
        return self._answer(404, {"name": "werkzeug.exceptions.NotFound", "message": "Not Found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _prefix, model, method = self.path.rsplit("/", 2)
        self.requests_seen.append((model, method, body, dict(self.headers)))
        if self.headers.get("Authorization") != f"bearer {API_KEY}":
            return self._answer(
                401, {"name": "werkzeug.exceptions.Unauthorized", "message": "Invalid apikey"}
            )
        if (model, method) == ("res.users", "search_read"):
            return self._answer(200, [{"id": 2}])
        if (model, method) == ("res.partner", "fields_get"):
            return self._answer(200, {"id": {"type": "integer"}, "name": {"type": "char"}})
        if (model, method) == ("res.partner", "search_read"):
            (_id, _op, last_id), *_rest = body["domain"]
            ids = [i for i in PARTNER_IDS if i > last_id][: body["limit"]]
            return self._answer(200, [{"id": i, "name": f"P{i}"} for i in ids])
        return self._answer(
            422, {"name": "odoo.exceptions.UserError", "message": f"{method} is not allowed"}
        )


@pytest.fixture
def json2_server():
    FakeJson2Handler.requests_seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeJson2Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_json2_version_and_bearer_login(json2_server):
    client = make_transport("json2", json2_server, "db19", "admin", API_KEY, timeout=5)
    assert client.version()["server_version"] == "19.0"
    assert client.authenticate() == 2
    _model, _method, body, headers = FakeJson2Handler.requests_seen[-1]
    assert body["domain"] == [["login", "=", "admin"]]
    assert headers["X-Odoo-Database"] == "db19"


def test_json2_refused_key_is_a_login_error(json2_server):
    client = make_transport("json2", json2_server, "db19", "admin", "wrong-key-9d", timeout=5)
    with pytest.raises(RemoteError) as caught:
        client.authenticate()
    assert caught.value.kind == "login"
    assert json2_server in str(caught.value) and "'admin'" in str(caught.value)
    assert "wrong-key-9d" not in str(caught.value)


def test_json2_read_batches_sends_named_arguments(json2_server):
    client = make_transport("json2", json2_server, "db19", "admin", API_KEY, timeout=5)
    ids = [
        row["id"]
        for batch in client.read_batches("res.partner", ["name"], batch_size=7)
        for row in batch
    ]
    assert ids == PARTNER_IDS
    reads = [
        body for _m, method, body, _h in FakeJson2Handler.requests_seen if method == "search_read"
    ]
    assert [body["domain"][0][2] for body in reads] == [0, 9, 16, 23]
    assert reads[0]["fields"] == ["name", "id"] and reads[0]["order"] == "id"


def test_json2_server_error_and_positional_arguments(json2_server):
    client = make_transport("json2", json2_server, "db19", "admin", API_KEY, timeout=5)
    with pytest.raises(RemoteError) as caught:
        client.call("res.partner", "unlink", [5])
    assert caught.value.kind == "server"
    assert caught.value.server_message == "unlink is not allowed"
    with pytest.raises(RemoteError, match="named arguments only"):
        client.call("res.partner", "action_archive", [5])
