"""Clients for a remote Odoo's external API, one interface over three wire formats.

``XmlRpcTransport`` (``/xmlrpc/2``, every Odoo version), ``JsonRpcTransport`` (``/jsonrpc``,
every version since 8.0) and ``Json2Transport`` (``/json/2``, Odoo 19+, an API key as bearer
token) share the public methods of ``Transport``. Every failure surfaces as one
``RemoteError`` that names the URL, database and login and carries the server's own message;
the secret never appears in it.
"""

import copy
import datetime
import email.utils
import itertools
import json
import logging
import time
import xmlrpc.client

import requests

_logger = logging.getLogger(__name__)

MAXINT = xmlrpc.client.MAXINT
MININT = xmlrpc.client.MININT

# Positional arguments of the ORM methods we call, for the JSON-2 API which only takes
# named parameters (its record ids go in "ids").
JSON2_ARG_NAMES = {
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("ids", "fields"),
    "fields_get": ("allfields", "attributes"),
    "name_search": ("name", "domain", "operator", "limit"),
    "read_group": ("domain", "fields", "groupby", "offset", "limit", "orderby", "lazy"),
    "create": ("vals_list",),
    "write": ("ids", "vals"),
    "unlink": ("ids",),
    "exists": ("ids",),
    "default_get": ("fields",),
    "get_external_id": ("ids",),
}


TRANSIENT_HTTP_STATUSES = frozenset({502, 503, 504})
# A source transaction writes its own start time as write_date: one that began before the
# clock was read and commits after its record was passed is caught by the next incremental
# run if it lasted less than this.
CLOCK_MARGIN = datetime.timedelta(minutes=5)


# How an Odoo server words a refused model or record, from 8.0 on.
ACCESS_MARKS = ("AccessError", "You are not allowed to", "Sorry, you are not allowed")


class RemoteError(Exception):
    """A call to the remote Odoo failed.

    ``kind`` says how: ``connection``, ``timeout``, ``http``, ``login``, ``database``,
    ``server`` or ``protocol``; ``server_message`` is what the server said, if it said anything.
    """

    def __init__(self, kind, endpoint, server_message, status=None):
        self.kind = kind
        self.endpoint = endpoint
        self.server_message = server_message
        self.status = status  # the HTTP status, for kind ``http``
        super().__init__(f"{endpoint}: {server_message}")

    @property
    def transient(self):
        """A gateway or an overloaded server in front of the source: worth trying again."""
        return self.kind == "http" and self.status in TRANSIENT_HTTP_STATUSES

    @property
    def failure(self):
        """What happened, as a user tells it apart: ``unreachable`` (no answer, or a gateway
        in between), ``login`` (the source answered and refused the login or knows no such
        database), ``access`` (logged in, refused a model or a record) or ``server`` (the
        source failed on the call)."""
        if self.kind in ("connection", "timeout") or self.transient:
            return "unreachable"
        if self.kind in ("login", "database") or (self.kind == "http" and self.status == 401):
            return "login"
        if self.kind == "http" and self.status == 403:
            return "access"
        if self.kind == "server" and any(mark in self.server_message for mark in ACCESS_MARKS):
            return "access"
        return "server"


class Batch(list):
    """The rows of one page, in id order; ``unreadable``: ``{id: message}`` of the rows the
    source could not read."""

    def __init__(self, rows=()):
        super().__init__(rows)
        self.unreadable = {}


def _last_line(message):
    lines = [line for line in (message or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


class Transport:
    """Base client: retries, error wrapping, keyset paging. Subclasses speak one protocol."""

    name = None

    def __init__(
        self, url, database, login, secret, timeout=60.0, retries=2, backoff=0.5, session=None
    ):
        self.url = url.rstrip("/")
        self.database = database
        self.login = login
        self._secret = secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._session = session or requests.Session()
        self._uid = None
        self._request_ids = itertools.count(1)
        self._integer_fields = {}
        self._server_date = None  # the Date header of the last answer

    def __repr__(self):
        return f"<{type(self).__name__} {self.endpoint}>"

    @property
    def endpoint(self):
        """Where we talk to, as shown in messages: never the secret."""
        return f"{self.url} (database {self.database!r}, login {self.login!r})"

    # -- public interface -------------------------------------------------------------------

    def clone(self):
        """Another client for the same source and login, with its own connection: one per
        thread (the read-ahead thread reads while the run resolves references)."""
        if self._uid is None:
            self.authenticate()  # once, before: the copy logs in as the same user
        other = copy.copy(self)
        other._session = requests.Session()
        other._request_ids = itertools.count(1)
        return other

    def version(self):
        """The server's version dict (``server_version``, ``server_version_info``, ...)."""
        return self._retrying(self._version)

    def source_clock(self):
        """The source's time (UTC, naive, as write_date is compared), less ``CLOCK_MARGIN``,
        from the Date header of an answer of its HTTP server; None if it sends none."""
        self._server_date = None
        self.version()
        if not self._server_date:
            return None
        try:
            now = email.utils.parsedate_to_datetime(self._server_date)
        except (TypeError, ValueError):
            return None
        now = now.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return (now - CLOCK_MARGIN).strftime("%Y-%m-%d %H:%M:%S")

    def authenticate(self):
        """Log in and return the remote user id; ``RemoteError(kind='login')`` if refused."""
        uid = self._retrying(self._authenticate)
        if not uid:
            raise RemoteError(
                "login", self.endpoint, "login refused: wrong login, password or API key"
            )
        self._uid = uid
        return uid

    @property
    def uid(self):
        if self._uid is None:
            self.authenticate()
        return self._uid

    def call(self, model, method, *args, **kwargs):
        """``model.method(*args, **kwargs)`` on the remote, as the authenticated user."""
        return self._retrying(self._execute_kw, model, method, list(args), kwargs)

    def fields_get(self, model, attributes=("string", "type", "relation", "required", "store")):
        return self.call(model, "fields_get", attributes=list(attributes))

    def search_count(self, model, domain=None, context=None):
        kwargs = {"context": context} if context else {}
        return self.call(model, "search_count", domain or [], **kwargs)

    def read_batches(
        self, model, fields, domain=None, batch_size=500, context=None, after_id=0,
        integer_fields=None,
    ):  # fmt: skip
        """Yield lists of at most ``batch_size`` rows of ``model``, in id order, each once.

        ``after_id`` starts after that id (a resume from a checkpoint); ``integer_fields``:
        the model's integer fields when the caller knows them (a run has the source's
        schema), else they are asked for (``fields_get``).

        Pages by keyset (``id > last id seen``), never by offset: rows created or deleted
        while we read cannot shift a page, and the database never scans skipped rows.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        fields = list(fields)
        if "id" not in fields:
            fields.append("id")
        if integer_fields is None:
            integer_fields = self._integer_field_names(model, fields)
        else:
            integer_fields = [name for name in fields if name in integer_fields]
        kwargs = {"fields": fields, "limit": batch_size, "order": "id"}
        if context:
            kwargs["context"] = context
        last_id = after_id or 0
        while True:
            page = [("id", ">", last_id)] + list(domain or [])
            try:
                rows = Batch(self.call(model, "search_read", page, **kwargs))
            except RemoteError as exc:
                if exc.kind != "server":
                    raise
                rows = self._read_isolating(model, page, fields, batch_size, context, exc)
            if not rows and not rows.unreadable:
                return
            for row in rows:
                for name in integer_fields:
                    value = row.get(name)
                    # Odoo sends integers beyond 32 bits as floats (fields.Integer.convert_to_read)
                    if isinstance(value, float) and value.is_integer():
                        row[name] = int(value)
            yield rows
            last_id = max([row["id"] for row in rows[-1:]] + list(rows.unreadable))
            if len(rows) + len(rows.unreadable) < batch_size:
                return

    def _read_isolating(self, model, page, fields, batch_size, context, error):
        """The page the source failed to send, read in halves down to the rows it cannot
        read: a value it cannot load (a date out of Python's range, a broken relation...)
        costs those rows, each with the source's message, not the whole run."""
        kwargs = {"context": context} if context else {}
        ids = self.call(model, "search", page, limit=batch_size, order="id", **kwargs)
        _logger.info("%s: %s refused a page of %s (%s): reading it in halves", self, model,
                     len(ids), error.server_message.splitlines()[-1] if error.server_message else "")  # fmt: skip
        batch, parts = Batch(), [ids]
        while parts:
            part = parts.pop(0)
            try:
                batch.extend(self.call(model, "read", part, fields, **kwargs))
            except RemoteError as exc:
                if exc.kind != "server":
                    raise
                if len(part) == 1:
                    batch.unreadable[part[0]] = _last_line(exc.server_message)
                    continue
                middle = len(part) // 2
                parts[:0] = [part[:middle], part[middle:]]
        return batch

    # -- protocol hooks ---------------------------------------------------------------------

    def _version(self):
        raise NotImplementedError

    def _authenticate(self):
        raise NotImplementedError

    def _execute_kw(self, model, method, args, kwargs):
        raise NotImplementedError

    # -- shared machinery ---------------------------------------------------------------------

    def _integer_field_names(self, model, fields):
        if model not in self._integer_fields:
            described = self.call(model, "fields_get", attributes=["type"])
            self._integer_fields[model] = {
                name for name, desc in described.items() if desc.get("type") == "integer"
            }
        return [name for name in fields if name in self._integer_fields[model]]

    def _retrying(self, func, *args):
        """Run ``func``, retrying connection failures and timeouts with exponential backoff."""
        for attempt in itertools.count():
            try:
                return func(*args)
            except (requests.ConnectionError, requests.Timeout, RemoteError) as exc:
                if isinstance(exc, RemoteError) and not exc.transient:
                    raise
                timed_out = isinstance(exc, requests.Timeout)
                if attempt >= self.retries:
                    if isinstance(exc, RemoteError):
                        raise RemoteError(
                            exc.kind,
                            self.endpoint,
                            f"{exc.server_message} ({attempt + 1} attempts)",
                            status=exc.status,
                        ) from None
                    if timed_out:
                        raise RemoteError(
                            "timeout",
                            self.endpoint,
                            f"no answer within {self.timeout:g} s ({attempt + 1} attempts)",
                        ) from None
                    raise RemoteError(
                        "connection",
                        self.endpoint,
                        f"cannot connect ({attempt + 1} attempts): {self._scrub(exc)}",
                    ) from None
                delay = self.backoff * 2**attempt
                _logger.info("%s: %s, retrying in %.1f s", self.endpoint, type(exc).__name__, delay)
                time.sleep(delay)

    def _post(self, path, **kwargs):
        response = self._session.post(self.url + path, timeout=self.timeout, **kwargs)
        self._server_date = response.headers.get("Date")
        return response

    def _raise_http(self, response):
        reason = response.reason or ""
        raise RemoteError(
            "http",
            self.endpoint,
            f"HTTP {response.status_code} {reason} on {response.url}",
            status=response.status_code,
        )

    def _scrub(self, text):
        text = str(text)
        if self._secret:
            text = text.replace(self._secret, "********")
        return text

    def _server_error(self, message, default_kind="server"):
        message = self._scrub(message).strip()
        kind = default_kind
        if "does not exist" in message and "database" in message.lower():
            kind = "database"
        elif "AccessDenied" in message or "Access Denied" in message:
            kind = "login"
        return RemoteError(kind, self.endpoint, message)


class BigIntMarshaller(xmlrpc.client.Marshaller):
    """Sends integers beyond 32 bits as ``<i8>``, which every Python XML-RPC server reads."""

    dispatch = dict(xmlrpc.client.Marshaller.dispatch)

    def dump_long(self, value, write):
        if MININT <= value <= MAXINT:
            write(f"<value><int>{value}</int></value>\n")
        else:
            write(f"<value><i8>{value}</i8></value>\n")

    dispatch[int] = dump_long


class XmlRpcTransport(Transport):
    name = "xmlrpc"

    def _rpc(self, service, method, params):
        body = (
            "<?xml version='1.0'?>\n<methodCall>\n"
            f"<methodName>{method}</methodName>\n"
            f"{BigIntMarshaller('utf-8', allow_none=True).dumps(params)}"
            "</methodCall>\n"
        )
        response = self._post(
            f"/xmlrpc/2/{service}",
            data=body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        if response.status_code != 200 or b"<methodResponse" not in response.content[:200]:
            self._raise_http(response)
        try:
            (result,), _method = xmlrpc.client.loads(response.content, use_builtin_types=True)
        except xmlrpc.client.Fault as fault:
            raise self._server_error(_fault_message(fault)) from None
        except Exception as exc:
            raise RemoteError(
                "protocol", self.endpoint, f"unreadable XML-RPC answer: {exc}"
            ) from None
        return result

    def _version(self):
        return self._rpc("common", "version", ())

    def _authenticate(self):
        return self._rpc("common", "authenticate", (self.database, self.login, self._secret, {}))

    def _execute_kw(self, model, method, args, kwargs):
        params = (self.database, self.uid, self._secret, model, method, args, kwargs)
        try:
            return self._rpc("object", "execute_kw", params)
        except RemoteError as error:
            if "exceeds XML-RPC limits" not in error.server_message:
                raise
        # The server cannot put a 64-bit integer of its answer into XML-RPC: JSON-RPC, served
        # by the same process, can.
        return JsonRpcTransport._execute_kw(self, model, method, args, kwargs)


def _fault_message(fault):
    """The useful part of an Odoo fault: the message, not the server's traceback."""
    text = str(fault.faultString or "").strip()
    if fault.faultCode == 1 and "Traceback" in text:
        lines = [line for line in text.splitlines() if line.strip()]
        text = lines[-1] if lines else text
    return text


class JsonRpcTransport(Transport):
    name = "jsonrpc"

    def _jsonrpc(self, service, method, args):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "params": {"service": service, "method": method, "args": list(args)},
            "id": next(self._request_ids),
        }
        response = self._post("/jsonrpc", json=payload)
        if response.status_code != 200:
            self._raise_http(response)
        try:
            answer = response.json()
        except ValueError:
            raise RemoteError(
                "protocol", self.endpoint, f"not a JSON-RPC answer from {response.url}"
            ) from None
        if answer.get("error"):
            raise self._server_error(_jsonrpc_error_message(answer["error"]))
        return answer.get("result")

    def _version(self):
        return self._jsonrpc("common", "version", ())

    def _authenticate(self):
        return self._jsonrpc(
            "common", "authenticate", (self.database, self.login, self._secret, {})
        )

    def _execute_kw(self, model, method, args, kwargs):
        params = (self.database, self.uid, self._secret, model, method, args, kwargs)
        return JsonRpcTransport._jsonrpc(self, "object", "execute_kw", params)


def _jsonrpc_error_message(error):
    data = error.get("data") or {}
    message = data.get("message") or error.get("message") or json.dumps(error)
    name = data.get("name") or ""
    if name and not any(name.endswith(word) for word in ("UserError", "ValidationError")):
        message = f"{name.rsplit('.', 1)[-1]}: {message}"
    return message


class Json2Transport(Transport):
    """Odoo 19's ``/json/2/<model>/<method>`` API: named arguments, API key as bearer token."""

    name = "json2"

    def _headers(self):
        return {
            "Authorization": f"bearer {self._secret}",
            "X-Odoo-Database": self.database,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "remote_data_migration",
        }

    def _version(self):
        response = self._session.get(self.url + "/web/version", timeout=self.timeout)
        self._server_date = response.headers.get("Date")
        if response.status_code != 200:
            self._raise_http(response)
        info = response.json()
        return {
            "server_version": info.get("version"),
            "server_version_info": info.get("version_info"),
        }

    def _authenticate(self):
        try:
            users = self._execute_kw(
                "res.users", "search_read", [[("login", "=", self.login)], ["id"]], {"limit": 1}
            )
        except RemoteError as error:
            if error.kind == "http" and " 401 " in error.server_message:
                return False
            raise
        return users[0]["id"] if users else False

    def _execute_kw(self, model, method, args, kwargs):
        names = JSON2_ARG_NAMES.get(method, ())
        if len(args) > len(names):
            raise RemoteError(
                "protocol",
                self.endpoint,
                f"{model}.{method}: the JSON-2 API takes named arguments only; "
                "pass keyword arguments",
            )
        body = dict(zip(names, args, strict=False))
        body.update(kwargs)
        response = self._post(f"/json/2/{model}/{method}", json=body, headers=self._headers())
        if response.status_code == 200:
            return response.json()
        try:
            error = response.json()
        except ValueError:
            self._raise_http(response)
        if response.status_code == 401:
            raise RemoteError(
                "login", self.endpoint, "API key refused: " + str(error.get("message"))
            )
        raise self._server_error(_jsonrpc_error_message({"data": error}))


TRANSPORTS = {cls.name: cls for cls in (XmlRpcTransport, JsonRpcTransport, Json2Transport)}


def make_transport(kind, url, database, login, secret, **options):
    """The client for ``kind`` (``xmlrpc``, ``jsonrpc`` or ``json2``)."""
    try:
        cls = TRANSPORTS[kind]
    except KeyError:
        raise ValueError(
            f"unknown transport {kind!r}: use one of {', '.join(TRANSPORTS)}"
        ) from None
    return cls(url, database, login, secret, **options)
