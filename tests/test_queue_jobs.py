"""Scale out on OCA queue_job: a run as a graph of jobs carried out by the workers of two
Odoo servers on one database (their job runner dispatching through a balancer, as to
several machines), against what one process makes; then one server killed mid-run."""

import itertools
import time
from collections import Counter
from pathlib import Path

import pytest

from .balancer import Balancer
from .queue_servers import WorkerServer, create_database, shell, sql
from .source_server import get_source_server

QUEUE_DB = "rdm_queue_test"
# The contacts plan, three times into one database: bank accounts of the company's partner
# (matched, not migrated, by each run) would be one account made three times: left out.
CONTACTS = (
    (Path(__file__).parent.parent / "data" / "contacts_plan.yaml")
    .read_text()
    .replace("    res.partner.bank.*:\n", "")
)

MAKE_RUN = """
import json
source = env["migration.source"].create({{
    "name": {name!r}, "url": {url!r}, "database": {database!r}, "login": "admin",
    "secret": "admin", "transport": "jsonrpc", "retries": 3, "timeout": 60,
}})
plan = env["migration.plan"].import_yaml({text!r}, source=source)
plan.write({{"name": {name!r}, "batches_per_job": 1, "job_capacity": 4}})
if {queued!r}:
    run = plan._queue_run()
else:
    run = plan.run()
env.cr.commit()
print("RDM-RESULT " + json.dumps({{"run": run.id, "source": source.id, "state": run.state}}))
"""


@pytest.fixture(scope="module")
def workers():
    """Two target servers of two workers each, their runner dispatching to both."""
    source = get_source_server()
    create_database(QUEUE_DB, ["remote_data_migration", "queue_job"])
    balancer = Balancer([])
    servers = [WorkerServer(QUEUE_DB, balancer.port, name=f"server{n}") for n in (1, 2)]
    balancer.backends = itertools.cycle([server.port for server in servers])
    try:
        for server in servers:
            server.start()
        yield source, servers
    finally:  # a server that failed to start leaves none running
        for server in servers:
            server.stop()
        balancer.close()


def make_run(source, url, name, queued):
    script = MAKE_RUN.format(
        name=name, url=url, database=source.database, text=CONTACTS, queued=queued
    )
    return shell(QUEUE_DB, script)


def wait_for(run_id, timeout=900):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ((state,),) = sql(QUEUE_DB, "SELECT state FROM migration_run WHERE id = %s", [run_id])
        if state in ("done", "failed", "cancelled"):
            return state
        time.sleep(1)
    raise AssertionError(f"run {run_id} not ended within {timeout} s: {state}")


def jobs(run_id):
    return dict(
        sql(
            QUEUE_DB,
            "SELECT state, count(*) FROM queue_job WHERE model_name = 'migration.run'"
            " AND func_string LIKE %s GROUP BY state",
            [f"migration.run({run_id},).%"],
        )
    )


def landed(source_id):
    """What a source's run left: its id map, and the partners it made, by source id."""
    mapped = sql(
        QUEUE_DB,
        "SELECT source_model, source_res_id, target_model FROM migration_id_map WHERE source_id = %s",
        [source_id],
    )
    partners = sql(
        QUEUE_DB,
        "SELECT m.source_res_id, p.name, p.email, p.is_company, parent.source_res_id"
        " FROM migration_id_map m JOIN res_partner p ON p.id = m.target_res_id"
        " LEFT JOIN migration_id_map parent ON parent.source_id = m.source_id"
        " AND parent.source_model = 'res.partner' AND parent.target_model = 'res.partner'"
        " AND parent.target_res_id = p.parent_id"
        " WHERE m.source_id = %s AND m.source_model = 'res.partner' AND m.target_model = 'res.partner'",
        [source_id],
    )
    doubles = sql(
        QUEUE_DB,
        "SELECT target_model, count(*) - count(DISTINCT target_res_id) FROM migration_id_map"
        " WHERE source_id = %s GROUP BY target_model",
        [source_id],
    )
    return Counter(mapped), Counter(partners), {model: n for model, n in doubles if n}


def counts(run_id):
    return sql(
        QUEUE_DB,
        "SELECT source_model, read_count, created_count, updated_count, unchanged_count, skipped_count,"
        " failed_count FROM migration_run_model WHERE run_id = %s ORDER BY source_model",
        [run_id],
    )


def test_a_run_of_jobs_on_two_servers_makes_what_one_process_makes(workers):
    source, servers = workers
    queued = make_run(source, source.url, "Contacts in jobs", queued=True)
    assert wait_for(queued["run"]) == "done", sql(
        QUEUE_DB, "SELECT error FROM migration_run WHERE id = %s", [queued["run"]]
    )
    single = make_run(
        source,
        source.url.replace("127.0.0.1", "localhost"),
        "Contacts in one process",
        queued=False,
    )
    assert single["state"] == "done"

    states = jobs(queued["run"])
    assert set(states) == {"done"} and states["done"] > 10, states
    # jobs working side by side never refuse each other: none was tried twice
    tried_again = sql(
        QUEUE_DB,
        "SELECT name, retry FROM queue_job WHERE model_name = 'migration.run'"
        " AND func_string LIKE %s AND retry > 1",
        [f"migration.run({queued['run']},).%"],
    )
    assert tried_again == [], tried_again
    ranges = sql(
        QUEUE_DB,
        "SELECT count(*), count(*) FILTER (WHERE state = 'done') FROM migration_run_range WHERE run_id = %s",
        [queued["run"]],
    )
    assert ranges[0][0] == ranges[0][1] > 10, ranges
    # both servers carried out jobs: each wrote in its own log
    for server in servers:
        assert (
            "_job_range" in server.log_file.read_text() or "runjob" in server.log_file.read_text()
        ), server.log_file

    in_jobs, in_one = landed(queued["source"]), landed(single["source"])
    assert in_jobs[0] == in_one[0], "the same id map"
    assert in_jobs[1] == in_one[1], "the same partners, parents included"
    assert in_jobs[2] == {} and in_one[2] == {}, "no target record twice"
    # what each read and failed; created or matched depends on which came first (the
    # target's own records, matched by the first, are found unchanged by the second)
    assert [row[:2] + row[-1:] for row in counts(queued["run"])] == [
        row[:2] + row[-1:] for row in counts(single["run"])
    ]
    assert all(row[-1] == 0 for row in counts(queued["run"]))
    ((clean,),) = sql(QUEUE_DB, "SELECT clean FROM migration_run WHERE id = %s", [queued["run"]])
    assert clean


def test_a_server_killed_mid_run_leaves_nothing_lost_nor_doubled(workers):
    source, servers = workers
    queued = make_run(source, source.url + "/", "Contacts, a server killed", queued=True)
    deadline = time.monotonic() + 300
    while jobs(queued["run"]).get("done", 0) < 4:  # the start and some ranges
        assert time.monotonic() < deadline, jobs(queued["run"])
        time.sleep(0.2)
    servers[1].kill()
    try:
        assert wait_for(queued["run"]) == "done"
    finally:
        servers[1].start()  # for the next tests of the module
    states = jobs(queued["run"])
    assert set(states) == {"done"}, states
    mapped, partners, doubles = landed(queued["source"])
    # every partner: as a partner, or as the partner of a user
    expected = source.transport().search_count("res.partner", [], context={"active_test": False})
    assert len(partners) == expected
    assert doubles == {}, "no target record twice"
    run_counts = {row[0]: row[1:] for row in counts(queued["run"])}
    read, created, updated, unchanged, skipped, failed = run_counts["res.partner"]
    assert read == created + updated + unchanged + skipped + failed and failed == 0, run_counts
