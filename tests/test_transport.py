"""The transports against a live source server (a separate Odoo process)."""

import logging
import socket
import time

import pytest

from ..engine.transport import MAXINT, RemoteError
from .source_server import get_source_server

source_server = pytest.fixture(scope="session")(get_source_server)

WRONG_SECRET = "not-the-password-4f1c9"


@pytest.fixture
def captured_logs():
    """Every log record emitted during the test, at every level."""
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.mark.parametrize("kind", ["xmlrpc", "jsonrpc"])
def test_version_and_login(source_server, kind):
    client = source_server.transport(kind)
    info = client.version()
    assert info["server_version_info"][0] == source_server.major
    uid = client.authenticate()
    assert uid == client.call("res.users", "search", [("login", "=", "admin")])[0]


@pytest.mark.parametrize("kind", ["xmlrpc", "jsonrpc"])
def test_wrong_password_names_endpoint_not_secret(source_server, kind, captured_logs):
    client = source_server.transport(kind)
    client._secret = WRONG_SECRET
    with pytest.raises(RemoteError) as caught:
        client.authenticate()
    message = str(caught.value)
    assert caught.value.kind == "login"
    assert source_server.url in message
    assert repr(source_server.database) in message and "'admin'" in message
    assert "refused" in message
    assert WRONG_SECRET not in message
    assert captured_logs, "the failed login should have been logged by the HTTP client at least"
    assert not [r for r in captured_logs if WRONG_SECRET in r.getMessage()]


@pytest.mark.parametrize("kind", ["xmlrpc", "jsonrpc"])
def test_unknown_database(source_server, kind):
    client = source_server.transport(kind)
    client.database = "rdm_no_such_database"
    with pytest.raises(RemoteError) as caught:
        client.call("res.partner", "search_count", [])
    assert caught.value.kind == "database", caught.value
    assert "rdm_no_such_database" in str(caught.value)
    assert source_server.url in str(caught.value)


def test_server_side_exception_message(source_server):
    client = source_server.transport("xmlrpc")
    with pytest.raises(RemoteError) as caught:
        client.call("res.partner", "search_read", [("no_such_field", "=", 1)], fields=["name"])
    assert caught.value.kind == "server"
    assert "no_such_field" in caught.value.server_message
    assert "Traceback" not in caught.value.server_message


def test_nothing_listens_fails_after_retries():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    from ..engine.transport import make_transport

    client = make_transport(
        "xmlrpc", f"http://127.0.0.1:{port}", "db", "me", "pw", timeout=2, retries=2, backoff=0.1
    )
    started = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        client.version()
    elapsed = time.monotonic() - started
    assert caught.value.kind == "connection"
    assert "3 attempts" in str(caught.value)
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert elapsed < 3 * 2 + 0.1 + 0.2 + 1


def test_server_that_never_answers_times_out():
    from ..engine.transport import make_transport

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)  # accepts connections in the kernel, never reads nor answers
        port = sock.getsockname()[1]
        client = make_transport(
            "jsonrpc",
            f"http://127.0.0.1:{port}",
            "db",
            "me",
            "pw",
            timeout=1,
            retries=1,
            backoff=0.1,
        )
        started = time.monotonic()
        with pytest.raises(RemoteError) as caught:
            client.version()
        elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout"
    assert "2 attempts" in str(caught.value)
    assert 2 <= elapsed < 2 * 1 + 0.1 + 1.5


@pytest.mark.parametrize("batch_size", [1, 7, 500])
def test_read_batches_each_row_once_in_id_order(source_server, batch_size):
    client = source_server.transport("jsonrpc" if batch_size == 1 else "xmlrpc")
    domain = [("ref", "=like", "RDM-GEN-%")]
    expected = client.search_count("res.partner", domain)
    assert expected >= 2000
    ids = []
    batch_lengths = set()
    for batch in client.read_batches("res.partner", ["name", "ref"], domain, batch_size=batch_size):
        batch_lengths.add(len(batch))
        ids.extend(row["id"] for row in batch)
    assert len(ids) == expected
    assert ids == sorted(set(ids)), "each row once, in id order"
    assert max(batch_lengths) == batch_size


def test_xmlrpc_and_jsonrpc_return_identical_rows(source_server):
    fields = ["name", "email", "is_company", "parent_id", "category_id", "write_date", "active"]
    domain = [("id", "<=", 200)]
    context = {"active_test": False}
    rows = {
        kind: [
            row
            for batch in source_server.transport(kind).read_batches(
                "res.partner", fields, domain, batch_size=50, context=context
            )
            for row in batch
        ]
        for kind in ("xmlrpc", "jsonrpc")
    }
    assert len(rows["xmlrpc"]) > 20
    assert rows["xmlrpc"] == rows["jsonrpc"]


@pytest.fixture(scope="module")
def big_industry_id(source_server):
    """A source record whose id is beyond 32 bits (its table's id column widened to bigint)."""
    big_id = MAXINT + 7
    source_server.sql("ALTER TABLE res_partner_industry ALTER COLUMN id TYPE bigint")
    source_server.sql(
        "INSERT INTO res_partner_industry (id, name, active) VALUES (%s, %s, true) "
        "ON CONFLICT (id) DO NOTHING",
        (big_id, '{"en_US": "Beyond 32 bits"}'),
    )
    return big_id


@pytest.mark.parametrize("kind", ["xmlrpc", "jsonrpc"])
def test_id_beyond_32_bits_round_trips(source_server, big_industry_id, kind):
    client = source_server.transport(kind)
    # as an argument: sent over XML-RPC as <i8>
    assert client.search_count("res.partner.industry", [("id", "=", big_industry_id)]) == 1
    # as a value of the answer, and as the keyset of the next page
    rows = [
        row
        for batch in client.read_batches("res.partner.industry", ["name"], batch_size=1)
        for row in batch
    ]
    assert rows[-1] == {"id": big_industry_id, "name": "Beyond 32 bits"}
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
