"""Scale-out benchmark: one run of the bench's partners as queue_job jobs, carried out by a
target server with 1 worker, then 2 workers; then the same behind a source slowed by 20 ms
per call (a source on another machine), where parallel jobs hide the latency.

    make bench-queue PARTNERS=10000

Uses the bench's source (``make bench`` made it, kept) and a fresh target database with
queue_job. Prints, per case, the run's wall time from queueing to done, records/s, and the
ratio of 2 workers to 1. Not part of the tests.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import local_odoo  # noqa: E402, F401
from run_bench import PLAN, SOURCE_DB, generate  # noqa: E402

from odoo.addons.remote_data_migration.tests.fault_proxy import FaultProxy  # noqa: E402
from odoo.addons.remote_data_migration.tests.queue_servers import (  # noqa: E402
    WorkerServer,
    create_database,
    shell,
    sql,
)
from odoo.addons.remote_data_migration.tests.source_server import SourceServer  # noqa: E402

QUEUE_DB = "rdm_bench_queue"
LATENCY = 0.020
QUEUE = """
import json, time
source = env["migration.source"].create({{"name": {name!r}, "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin", "transport": "jsonrpc", "timeout": 120}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
plan.write({{"name": {name!r}, "job_capacity": {workers}, "batches_per_job": {batches}}})
run = plan._queue_run()
env.cr.commit()
print("RDM-RESULT " + json.dumps({{"run": run.id, "queued_at": time.time()}}))
"""


def measure(url, database, workers, partners, name, args):
    server = WorkerServer(QUEUE_DB, runner_port=None, workers=workers, name=f"bench-{workers}")
    server.start()
    try:
        plan = PLAN.format(batch_size=args.batch_size, partners=partners)
        queued = shell(
            QUEUE_DB,
            QUEUE.format(name=name, url=url, database=database, plan=plan, workers=workers,
                         batches=args.batches_per_job),
        )  # fmt: skip
        while True:
            ((state, created),) = sql(
                QUEUE_DB,
                "SELECT r.state, coalesce(sum(m.created_count), 0) FROM migration_run r"
                " LEFT JOIN migration_run_model m ON m.run_id = r.id WHERE r.id = %s GROUP BY r.state",
                [queued["run"]],
            )
            if state in ("done", "failed", "cancelled"):
                break
            time.sleep(0.5)
        wall = time.time() - queued["queued_at"]
        ((tried_again,),) = sql(
            QUEUE_DB,
            "SELECT count(*) FROM queue_job WHERE func_string LIKE %s AND retry > 1",
            [f"migration.run({queued['run']},).%"],
        )
        return {"state": state, "records": created, "wall": wall, "tried_again": tried_again}
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=10_000, choices=(1_000, 10_000, 100_000))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--batches-per-job", type=int, default=2)
    args = parser.parse_args()

    source = SourceServer(database=SOURCE_DB, generated=0)
    source.start()
    results = []
    try:
        generate(source, args.partners)
        print("target: a fresh database with the addon and queue_job...", flush=True)
        create_database(QUEUE_DB, ["remote_data_migration", "queue_job"])
        with FaultProxy(source.url) as proxy:
            proxy.add(b"", "delay", LATENCY, times=10**9)
            for case, url in (
                ("source on this machine", source.url),
                (f"source {LATENCY * 1000:.0f} ms away", proxy.url),
            ):
                for workers in (1, 2):
                    print(f"{case}, {workers} worker(s)...", flush=True)
                    result = measure(
                        url, source.database, workers, args.partners, f"{case} {workers}", args
                    )
                    results.append((case, workers, result))
    finally:
        source.stop()
    print(
        f"\n{'case':<28}{'workers':>8}{'records':>10}{'wall s':>9}{'records/s':>11}{'ratio':>7}"
        f"{'jobs tried again':>18}"
    )
    for case, workers, result in results:
        rate = result["records"] / result["wall"]
        one = next(r for c, w, r in results if c == case and w == 1)
        ratio = rate / (one["records"] / one["wall"])
        print(f"{case:<28}{workers:>8}{result['records']:>10}{result['wall']:>9.1f}{rate:>11.0f}{ratio:>7.2f}"
              f"{result['tried_again']:>18}  {result['state']}")  # fmt: skip


if __name__ == "__main__":
    main()
