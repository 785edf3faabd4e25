"""End-to-end benchmark: N generated source partners migrated into a fresh target database.

    make bench PARTNERS=10000        # or 1000, 100000

The source (database ``rdm_bench_source``, served by its own Odoo process) holds N partners:
one in ten a company, the others its contacts (``parent_id``), each with a tag of a small
tag tree; and 20,000 plain tags for the ``sql`` mode. They are made once and kept.

Separate ``odoo-bin shell`` processes on the target (``rdm_bench_target``, made fresh):

1. the migration, as an integrator runs it: per model records, seconds, records/s; wall
   time; SQL queries per batch; the process's peak memory. Right after it, in the same
   process, the ceiling: the same values, read back from what the migration wrote, created
   again with ``create`` in batches of the same size (no network, no id map), then rolled
   back; the ratio of the migration's rate to it. Then the re-run on the unchanged source.
2. the ceiling again, later, in a process of its own (how far the machine's speed moved);
3. the ``sql`` mode against the ORM mode on the plain tags (batches of 2,000: bulk loads
   take big batches);
4. the history of the migrated partners: 10,000 messages and 1,000 attachments of 100 KB
   (their content read over the API and stored in the target's filestore), rows/s each.

Not part of the tests. Needs ``make setup`` first.
"""

import argparse
import base64
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import local_odoo  # noqa: E402

from odoo.addons.remote_data_migration.engine.journal import PHASES  # noqa: E402
from odoo.addons.remote_data_migration.tests.source_server import SourceServer  # noqa: E402

SOURCE_DB = "rdm_bench_source"
TARGET_DB = "rdm_bench_target"
BULK_TAGS = 20_000
GROUP_TAGS = 30
# The first partners are created through the API; beyond, rows of the same shape are written
# in SQL (creating 100,000 partners through the API takes an hour on 2 cores).
API_PARTNERS = 10_000
_NUMBER = "lpad(i::text, 6, '0')"
_COLUMNS = (
    "name, ref, email, email_normalized, is_company, active, type, lang, color, partner_share,"
    " message_bounce, create_uid, write_uid, create_date, write_date"
)
_VALUES = (
    f"'Bench partner ' || {_NUMBER}, 'RDM-BENCH-' || {_NUMBER}, 'partner' || {_NUMBER} || '@example.com',"
    f" 'partner' || {_NUMBER} || '@example.com', i %% 10 = 0, true, 'contact', 'en_US', 0, true, 0,"
    " 2, 2, now(), now()"
)
SQL_PARTNERS = [
    # companies
    f"INSERT INTO res_partner ({_COLUMNS}, city, complete_name, commercial_company_name)"
    f" SELECT {_VALUES}, 'City ' || i %% 97, 'Bench partner ' || {_NUMBER}, 'Bench partner ' || {_NUMBER}"
    " FROM generate_series(%(first)s, %(last)s) i WHERE i %% 10 = 0",
    "UPDATE res_partner SET commercial_partner_id = id"
    " WHERE is_company AND commercial_partner_id IS NULL AND ref LIKE 'RDM-BENCH-%%'",
    # their contacts
    f"INSERT INTO res_partner ({_COLUMNS}, city, complete_name, commercial_company_name,"
    " parent_id, commercial_partner_id)"
    f" SELECT {_VALUES}, c.city, c.name || ', Bench partner ' || {_NUMBER}, c.name, c.id, c.id"
    " FROM generate_series(%(first)s, %(last)s) i JOIN res_partner c"
    " ON c.ref = 'RDM-BENCH-' || lpad((i - i %% 10)::text, 6, '0') WHERE i %% 10 <> 0",
    # each with its tag
    "INSERT INTO res_partner_res_partner_category_rel (category_id, partner_id)"
    " SELECT (%(tags)s::int[])[substr(p.ref, 11)::int %% 30 + 1], p.id FROM res_partner p"
    " WHERE p.ref LIKE 'RDM-BENCH-%%' AND substr(p.ref, 11)::int BETWEEN %(first)s AND %(last)s",
]

PLAN = """
format: 1
plan: Bench partners
options:
  batch_size: {batch_size}
  unresolved: "null"
mapping:
  '*':
    res.partner.category.__query__: [["name", "=like", "Bench group %"]]
    res.partner.category.*:
    res.partner.category.partner_ids: __forget__
    res.partner.__query__: [["ref", "=like", "RDM-BENCH-%"], ["ref", "<", "RDM-BENCH-{partners:06d}"]]
    res.partner.*:
    res.partner.user_id: __forget__
    res.partner.message_main_attachment_id: __forget__
"""

HISTORY_MESSAGES = 10_000
HISTORY_ATTACHMENTS = 1_000
ATTACHMENT_BYTES = 100 * 1024
HISTORY_PLAN = """
format: 1
plan: Bench history
options:
  batch_size: {batch_size}
mapping:
  '*':
    mail.message.__query__: [["model", "=", "res.partner"], ["body", "=like", "<p>Bench message %"]]
    mail.message.__unresolved__: skip
    mail.message.model:
    mail.message.res_id:
      mail.message.res_id: __ref__ model
    mail.message.body:
    mail.message.message_type:
    mail.message.subtype_id:
    mail.message.author_id:
    mail.message.date:
    mail.message.record_name:
    ir.attachment.__query__: [["res_model", "=", "res.partner"], ["name", "=like", "bench-%"]]
    ir.attachment.__unresolved__: skip
    ir.attachment.name:
    ir.attachment.res_model:
    ir.attachment.res_id:
      ir.attachment.res_id: __ref__ res_model
    ir.attachment.mimetype:
    ir.attachment.datas:
"""
HISTORY = """
import time
source = env["migration.source"].search([("name", "=", "Bench source")], limit=1)
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
env.cr.commit()
started = time.monotonic()
run = plan.run()
extra = {{"wall": time.monotonic() - started}}
"""

TAGS_PLAN = """
format: 1
plan: Bench tags {mode}
options:
  batch_size: {batch_size}
mapping:
  '*':
    res.partner.category.__query__: [["name", "=like", "Bench bulk %"]]
    res.partner.category.__mode__: {mode}
    res.partner.category.name:
    res.partner.category.color:
    res.partner.category.active:
"""

MIGRATION = """
import resource
import time
import odoo.sql_db
from odoo.addons.remote_data_migration.engine import run_context, writer

read_with = {{}}  # source model -> (fields, domain) the run read it with
read_ahead = run_context.RunContext.read_ahead
def recording_read_ahead(self, model, fields, domain, after_id=0):
    read_with[model] = (list(fields), list(domain))
    return read_ahead(self, model, fields, domain, after_id)
run_context.RunContext.read_ahead = recording_read_ahead

written = {{}}  # target model -> the fields the migration created records with
create_batch = writer.Writer.create_batch
def recording_create_batch(self, model_name, items):
    for _key, vals in items:
        written.setdefault(model_name, set()).update(vals)
    return create_batch(self, model_name, items)
writer.Writer.create_batch = recording_create_batch

source = env["migration.source"].create({{
    "name": "Bench source", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin", "transport": {transport!r},
}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
env.cr.commit()
queries = odoo.sql_db.sql_counter
started = time.monotonic()
run = plan.run()
wall = time.monotonic() - started
batches = sum(-(-line.read_count // {batch_size}) for line in run.model_ids)
phases = {{line.source_model: line.phase_seconds() for line in run.model_ids}}
queries = odoo.sql_db.sql_counter - queries
env.cr.commit()
written_names = {{model: sorted(names) for model, names in written.items()}}
# the migration's own peak, then the ceiling right after it: the machine's speed drifts
# by a fifth within minutes here, a ceiling measured later compares other speeds
migration_peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
ceiling = {{}}
if {ceiling_here}:  # not under the profiler: its figures are the migration's
    ceiling = measure_ceiling(written_names, run.id, {batch_size})
# the re-run on the unchanged source, then the source's own read rate for the same fields
rerun_queries = odoo.sql_db.sql_counter
rerun = plan.run()
rerun_queries = odoo.sql_db.sql_counter - rerun_queries
env.cr.commit()
rerun_lines = {{line.source_model: {{"records": line.read_count, "seconds": line.seconds,
                "updated": line.updated_count, "unchanged": line.unchanged_count,
                "created": line.created_count, "phases": line.phase_seconds()}}
               for line in rerun.model_ids}}
transport = source._transport()
source_reads = {{}}
for model, (fields, domain) in read_with.items():
    started = time.monotonic()
    count = sum(len(rows) for rows in transport.read_batches(
        model, fields, domain, batch_size={batch_size}, context={{"active_test": False}}))
    source_reads[model] = {{"records": count, "seconds": time.monotonic() - started}}
extra = {{"wall": wall, "batches": batches, "ceiling": ceiling,
          "migration_peak_rss_mb": migration_peak_rss_mb, "queries": queries, "phases": phases,
          "rerun": rerun_lines, "rerun_queries": rerun_queries, "source_reads": source_reads,
          "written": written_names}}
"""

# The ceiling: the values the migration wrote, read back a batch at a time (memory stays
# that of a batch) and created again with create() in batches of the same size, timed
# without the reading, then rolled back.
CEILING_FUNCTION = """
import time
from odoo.fields import Command
from odoo.addons.remote_data_migration.engine.writer import QUIET_CONTEXT

def measure_ceiling(written, run_id, batch_size):
    ceiling = {}
    for model_name, names in written.items():
        model = env[model_name].with_context(**QUIET_CONTEXT, active_test=False)
        # the records of the run's source (a re-run has taken the id map's run_id since)
        env.cr.execute("SELECT target_res_id FROM migration_id_map WHERE target_model = %s"
                       " AND source_id = (SELECT source_id FROM migration_run WHERE id = %s)"
                       " ORDER BY id", [model_name, run_id])
        ids = [row[0] for row in env.cr.fetchall()]
        seconds = 0.0
        with env.cr.savepoint(flush=False) as savepoint:
            for start in range(0, len(ids), batch_size):
                vals_list = model.browse(ids[start:start + batch_size]).read(names, load=None)
                env.invalidate_all()
                for vals in vals_list:
                    del vals["id"]
                    for name in names:
                        if model._fields[name].type in ("one2many", "many2many"):
                            vals[name] = [Command.set(vals[name])]
                started = time.monotonic()
                model.create(vals_list)
                env.flush_all()
                env.invalidate_all()
                seconds += time.monotonic() - started
            savepoint.rollback()
        ceiling[model_name] = {"records": len(ids), "seconds": seconds}
    return ceiling
"""

# after CEILING_FUNCTION, in a process of its own
CEILING = """
run = env["migration.run"].browse({run_id})
extra = {{"ceiling": measure_ceiling({written!r}, {run_id}, {batch_size})}}
"""

TAGS = """
import time
source = env["migration.source"].search([("name", "=", "Bench source")], limit=1)
tag_rates = {{}}
for mode in ("orm", "sql"):
    plan = env["migration.plan"].import_yaml({plan!r}.format(mode=mode), source=source)
    env.cr.commit()
    started = time.monotonic()
    run = plan.run()
    tag_rates[mode] = {{"state": run.state, "error": run.error or "",
                       "records": sum(run.model_ids.mapped("created_count")),
                       "seconds": sum(run.model_ids.mapped("seconds")),
                       "wall": time.monotonic() - started,
                       "phases": run.model_ids[:1].phase_seconds() if run.model_ids else {{}}}}
    # the next mode starts from an empty target again
    env.cr.execute("SELECT target_res_id FROM migration_id_map WHERE run_id = %s", [run.id])
    env["res.partner.category"].browse([r[0] for r in env.cr.fetchall()]).unlink()
    env["migration.id.map"].search([("run_id", "=", run.id)]).unlink()
    env.cr.commit()
extra = {{"tags": tag_rates}}
"""


def generate(server, partners):
    """The bench's source records, made once: tags, companies and their contacts."""
    client = server.transport("jsonrpc", timeout=600)
    tags = client.call("res.partner.category", "search", [("name", "=like", "Bench group %")])
    if not tags:
        roots = client.call(
            "res.partner.category", "create", [{"name": f"Bench group {i}"} for i in range(5)]
        )
        children = [
            {"name": f"Bench group {i}", "parent_id": roots[i % 5]} for i in range(5, GROUP_TAGS)
        ]
        tags = roots + client.call("res.partner.category", "create", children)
    existing = client.search_count("res.partner", [("ref", "=like", "RDM-BENCH-%")])
    for start in range(existing, min(partners, API_PARTNERS), 1000):
        print(f"  source partners {start}..{start + 1000}", flush=True)
        numbers = range(start, min(start + 1000, partners))

        def partner(i):
            return {
                "name": f"Bench partner {i:06d}",
                "ref": f"RDM-BENCH-{i:06d}",
                "email": f"partner{i:06d}@example.com",
                "city": f"City {i % 97}",
                "category_id": [(6, 0, [tags[i % len(tags)]])],
            }

        companies = [i for i in numbers if i % 10 == 0]
        company_ids = client.call(
            "res.partner", "create", [partner(i) | {"is_company": True} for i in companies]
        )
        company_of = dict(zip(companies, company_ids, strict=True))
        client.call(
            "res.partner",
            "create",
            [partner(i) | {"parent_id": company_of[i - i % 10]} for i in numbers if i % 10],
        )
    existing = max(existing, API_PARTNERS)
    if partners > existing:
        print(f"  source partners {existing}..{partners}: SQL copies of the API's rows", flush=True)
        for statement in SQL_PARTNERS:
            server.sql(statement, {"first": existing, "last": partners - 1, "tags": tags})
    bulk = server.sql(
        "SELECT count(*) FROM res_partner_category WHERE name->>'en_US' LIKE 'Bench bulk %'"
    )
    if not bulk[0][0]:
        # plain rows, written straight into the source table: only read from there
        server.sql(
            "INSERT INTO res_partner_category (name, color, active, create_uid, write_uid,"
            " create_date, write_date) SELECT jsonb_build_object('en_US', 'Bench bulk ' || i),"
            " i %% 12, i %% 50 <> 0, 1, 1, now(), now() FROM generate_series(1, %s) i",
            [BULK_TAGS],
        )
        server.sql(
            "UPDATE res_partner_category SET parent_path = id || '/' WHERE parent_path IS NULL"
        )


def generate_history(server, partners):
    """10,000 messages (SQL rows, as a mail-heavy database holds them) and 1,000 attachments
    of 100 KB (through the API, so that the source's filestore has them) on the partners."""
    count = server.sql(
        "SELECT count(*) FROM mail_message WHERE model = 'res.partner' AND body LIKE '<p>Bench message %%'"
    )[0][0]
    if not count:
        server.sql(
            "INSERT INTO mail_message (model, res_id, body, message_type, subtype_id, author_id, date,"
            " record_name, create_uid, write_uid, create_date, write_date)"
            " SELECT 'res.partner', p.id, '<p>Bench message ' || i || '</p>', 'comment',"
            " (SELECT res_id FROM ir_model_data WHERE module = 'mail' AND name = 'mt_note'), 3, now(),"
            " p.name, 2, 2, now(), now() FROM generate_series(1, %(messages)s) i"
            " JOIN res_partner p ON p.ref = 'RDM-BENCH-' || lpad((i %% %(partners)s)::text, 6, '0')",
            {"messages": HISTORY_MESSAGES, "partners": partners},
        )
    client = server.transport("jsonrpc", timeout=600)
    existing = client.search_count("ir.attachment", [("name", "=like", "bench-%")])
    partner_ids = client.call(
        "res.partner",
        "search",
        [("ref", "=like", "RDM-BENCH-%")],
        limit=HISTORY_ATTACHMENTS,
        order="id",
    )
    for start in range(existing, HISTORY_ATTACHMENTS, 20):
        print(f"  source attachments {start}..{start + 20}", flush=True)
        client.call(
            "ir.attachment",
            "create",
            [
                {
                    "name": f"bench-{i:05d}.bin",
                    "datas": base64.b64encode(os.urandom(ATTACHMENT_BYTES)).decode(),
                    "res_model": "res.partner",
                    "res_id": partner_ids[i % len(partner_ids)],
                }
                for i in range(start, min(start + 20, HISTORY_ATTACHMENTS))
            ],
        )


def print_phases(title, lines):
    """``lines``: [(model, {phase: seconds}, wall seconds)]."""
    print(f"\n{title:<24}" + "".join(f"{n:>12}" for n in PHASES) + f"{'sum':>8}{'wall':>8}")
    for model, phases, wall in lines:
        print(f"{model:<24}" + "".join(f"{phases.get(n, 0):>12.2f}" for n in PHASES)
              + f"{sum(phases.values()):>8.2f}{wall:>8.2f}")  # fmt: skip


def print_rerun(result):
    """The re-run on the unchanged source against the source's read rate, same fields."""
    print(f"\n{'re-run, unchanged source':<30}{'records':>10}{'updated':>9}{'unchanged':>10}"
          f"{'records/s':>11}{'source read/s':>15}{'ratio':>7}")  # fmt: skip
    for model, line in result["rerun"].items():
        rate = line["records"] / line["seconds"] if line["seconds"] else 0
        read = result["source_reads"].get(model, {})
        read_rate = read["records"] / read["seconds"] if read.get("seconds") else 0
        ratio = rate / read_rate if read_rate else 0
        print(f"{model:<30}{line['records']:>10}{line['updated']:>9}{line['unchanged']:>10}"
              f"{rate:>11.0f}{read_rate:>15.0f}{ratio:>7.2f}")  # fmt: skip
    print(f"re-run SQL queries: {result['rerun_queries']}")


def print_ceiling(result, later):
    """The migration's rate against create() of the same values: right after it in its
    process (the ratio that counts: measured at the same speed of the machine), and later
    in a process of its own."""
    print(
        f"\n{'ceiling: create in process':<30}{'records':>10}{'seconds':>10}{'records/s':>11}{'ratio':>8}"
    )
    by_model = {line["model"]: line for line in result["models"]}
    for when, ceiling in (("", result["ceiling"]), (", later", later)):
        for model_name, line in ceiling.items():
            rate = line["records"] / line["seconds"] if line["seconds"] else 0
            migrated = by_model.get(model_name, {})
            seconds = migrated.get("seconds")
            ratio = migrated["records"] / seconds / rate if seconds and rate else 0
            print(
                f"{model_name + when:<30}{line['records']:>10}{line['seconds']:>10.1f}"
                f"{rate:>11.0f}{ratio:>8.2f}"
            )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=10_000, choices=(1_000, 10_000, 100_000))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--transport", default="jsonrpc", choices=("xmlrpc", "jsonrpc"))
    parser.add_argument("--no-tags", action="store_true", help="skip the sql mode comparison")
    parser.add_argument("--no-history", action="store_true", help="skip messages and attachments")
    parser.add_argument("--tags-batch-size", type=int, default=2000)
    parser.add_argument(
        "--profile",
        metavar="STACKS",
        help="sample the migration's process with py-spy; its collapsed stacks go here",
    )
    args = parser.parse_args()

    server = SourceServer(database=SOURCE_DB, generated=0)
    server.start()
    try:
        print(f"source: {args.partners} partners (made once, kept)...", flush=True)
        generate(server, args.partners)
        if not args.no_history:
            generate_history(server, args.partners)
        print("target: a fresh database with the addon...", flush=True)
        local_odoo.create_database(TARGET_DB)
        print("migrating, then the ceiling...", flush=True)
        script = MIGRATION.format(
            url=server.url,
            database=server.database,
            transport=args.transport,
            batch_size=args.batch_size,
            plan=PLAN.format(batch_size=args.batch_size, partners=args.partners),
            ceiling_here=not args.profile,
        )
        wrapper = ()
        if args.profile:
            py_spy = Path(sys.executable).parent / "py-spy"
            wrapper = (str(py_spy), "record", "--rate", "200", "--nonblocking", "--format", "raw",
                       "-o", args.profile, "--")  # fmt: skip
        result = local_odoo.run_in_shell(TARGET_DB, CEILING_FUNCTION + script, wrapper=wrapper)
        print("ceiling again, in a process of its own...", flush=True)
        later_ceiling = local_odoo.run_in_shell(
            TARGET_DB,
            CEILING_FUNCTION
            + CEILING.format(
                written=result["written"], run_id=result["run_id"], batch_size=args.batch_size
            ),
        )["ceiling"]
        history = None
        if not args.no_history:
            print("history: messages and attachments of the partners...", flush=True)
            history = local_odoo.run_in_shell(
                TARGET_DB, HISTORY.format(plan=HISTORY_PLAN.format(batch_size=args.batch_size))
            )
        tags = None
        if not args.no_tags:
            print("sql mode against orm mode...", flush=True)
            tags = local_odoo.run_in_shell(
                TARGET_DB,
                TAGS.format(plan=TAGS_PLAN.replace("{batch_size}", str(args.tags_batch_size))),
            )["tags"]
    finally:
        server.stop()
    local_odoo.print_result(result)
    total = sum(line["records"] for line in result["models"])
    print(
        f"run wall time: {result['wall']:.1f} s ({total / result['wall']:.0f} records/s end to end);"
        f" SQL queries per batch: {result['queries'] / max(result['batches'], 1):.0f}"
        f" ({result['queries']} in {result['batches']} batches)"
    )
    print(
        f"target process: peak memory {result['migration_peak_rss_mb']:.0f} MB"
        f" ({result['peak_rss_mb']:.0f} MB with the ceiling and the re-run after it)"
    )
    print_phases(
        "seconds per phase",
        [
            (m["model"], result["phases"].get(m["model"], {}), m["seconds"])
            for m in result["models"]
        ],
    )
    print_ceiling(result, later_ceiling)
    print_rerun(result)
    print_phases(
        "re-run, per phase",
        [(model, line["phases"], line["seconds"]) for model, line in result["rerun"].items()],
    )
    if history:
        partners = next(line for line in result["models"] if line["model"] == "res.partner")
        print(
            f"\n{'rows/s, next to the partners':<30}{'records':>10}{'seconds':>10}{'records/s':>11}"
        )
        for line in [partners, *history["models"]]:
            rate = line["records"] / line["seconds"] if line["seconds"] else 0
            print(f"{line['model']:<30}{line['records']:>10}{line['seconds']:>10.1f}{rate:>11.0f}")
        if history["state"] != "done" or history["errors"]:
            print(f"  history run {history['state']}: {history['error']} {history['errors'][:3]}")
    if tags:
        header = f"plain tags, batch {args.tags_batch_size}"
        print(f"\n{header:<30}{'records':>10}{'seconds':>10}{'records/s':>11}{'run wall s':>12}")
        for mode, line in tags.items():
            rate = line["records"] / line["seconds"] if line["seconds"] else 0
            print(
                f"{mode + ' mode':<30}{line['records']:>10}{line['seconds']:>10.1f}{rate:>11.0f}"
                f"{line['wall']:>12.1f}  {line['state']} {line['error']}"
            )
        print_phases(
            "plain tags, per phase",
            [(f"{mode} mode", line["phases"], line["seconds"]) for mode, line in tags.items()],
        )


if __name__ == "__main__":
    main()
