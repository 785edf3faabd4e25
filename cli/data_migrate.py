"""``odoo-bin data-migrate``: run a plan from a terminal.

    odoo-bin --addons-path=PATHS data-migrate -c odoo.conf -d DB (--plan NAME | --file plan.yaml)
        [--source-url URL --source-db DB --source-login LOGIN [--transport xmlrpc]]
        [--dry-run] [--models a,b] [--incremental] [--resume]

Odoo looks for the sub-commands of addons only on an --addons-path given before the
command's name. The source's password or API key comes from the environment variable RDM_SOURCE_SECRET or
a prompt, never from an argument (arguments are visible to every user of the machine).
Exit code: 0 when the run is done without failed records, 1 when it failed or some records
did, 2 on invalid input.
"""

import argparse
import getpass
import os
import sys

import odoo
from odoo.cli import Command
from odoo.exceptions import UserError
from odoo.tools import config

from ..engine.journal import COUNTERS

SECRET_VARIABLE = "RDM_SOURCE_SECRET"


class InvalidInput(Exception):
    pass


class DataMigrate(Command):
    """Run a data migration plan of remote_data_migration"""

    name = "data-migrate"

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(
            prog="odoo-bin data-migrate", description=__doc__.split("\n\n")[0]
        )
        parser.add_argument("-c", "--config", help="Odoo configuration file")
        parser.add_argument("-d", "--database", required=True, help="the target database")
        parser.add_argument("--addons-path")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--plan", help="name of a plan of the database")
        which.add_argument("--file", help="a mapping file (YAML) to import as a new plan and run")
        parser.add_argument("--source-url")
        parser.add_argument("--source-db")
        parser.add_argument("--source-login")
        parser.add_argument(
            "--transport",
            choices=("xmlrpc", "jsonrpc", "json2"),
            help="for a new source (default jsonrpc); an existing source keeps its own",
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--models", help="comma-separated source models: only these")
        parser.add_argument("--incremental", action="store_true")
        parser.add_argument("--resume", action="store_true")
        args = parser.parse_args(cmdargs)

        odoo_args = ["-d", args.database]
        if args.config:
            odoo_args += ["-c", args.config]
        if args.addons_path:
            odoo_args += ["--addons-path", args.addons_path]
        config.parse_config(odoo_args)
        try:
            sys.exit(self.migrate(args))
        except InvalidInput as exc:
            sys.stderr.write(f"data-migrate: {exc}\n")
            sys.exit(2)

    def migrate(self, args):
        registry = odoo.modules.registry.Registry(args.database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if "migration.plan" not in env:
                raise InvalidInput(f"remote_data_migration is not installed in {args.database}")
            try:
                plan = self.find_plan(env, args)
                run = self.start(plan, args)
            except UserError as exc:
                cr.rollback()
                raise InvalidInput(exc.args[0]) from None
            sys.stdout.write("\n")
            self.print_summary(run)
            # a command line has no request to end: the run record is kept here
            cr.commit()  # pylint: disable=invalid-commit
            ok = run.state == "done" and not run.failed_count and run.balanced
            return 0 if ok else 1

    def find_plan(self, env, args):
        source = self.find_source(env, args)
        if args.file:
            try:
                with open(args.file, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise InvalidInput(f"cannot read {args.file}: {exc.strerror}") from None
            if source is None:
                raise InvalidInput(
                    "--file needs the source: --source-url, --source-db and --source-login"
                )
            return env["migration.plan"].import_yaml(text, source=source)
        plan = env["migration.plan"].search([("name", "=", args.plan)])
        if len(plan) != 1:
            raise InvalidInput(f"{len(plan)} plans are named {args.plan!r}")
        if source is not None:
            plan.source_id = source
        return plan

    def find_source(self, env, args):
        given = [args.source_url, args.source_db, args.source_login]
        if not any(given):
            return None
        if not all(given):
            raise InvalidInput("give all of --source-url, --source-db and --source-login")
        secret = os.environ.get(SECRET_VARIABLE)
        if secret is None:
            if not sys.stdin.isatty():
                raise InvalidInput(f"set {SECRET_VARIABLE} to the source's password or API key")
            secret = getpass.getpass(
                f"Password or API key of {args.source_login} on {args.source_url}: "
            )
        Source = env["migration.source"]
        domain = [
            ("url", "=", args.source_url),
            ("database", "=", args.source_db),
            ("login", "=", args.source_login),
        ]
        source = Source.search(domain, limit=1)
        values = {"secret": secret}
        if args.transport:
            values["transport"] = args.transport
        if source:
            source.write(values)
        else:
            source = Source.create(
                dict(values, name=f"{args.source_db} at {args.source_url}", url=args.source_url,
                     database=args.source_db, login=args.source_login)
            )  # fmt: skip
        return source

    def start(self, plan, args):
        models = [m.strip() for m in args.models.split(",")] if args.models else None
        if args.resume:
            try:
                run = plan._run_to_resume()
            except UserError as exc:
                raise InvalidInput(str(exc)) from None
            return run._execute(resume=True, progress=self.print_progress)
        run = plan._new_run(dry_run=args.dry_run, models=models, incremental=args.incremental)
        return run._execute(progress=self.print_progress)

    @staticmethod
    def print_progress(run):
        to_read = sum(run.model_ids.mapped("source_count")) or 1
        done = sum(run.model_ids.mapped("read_count"))
        current = run.model_ids.filtered(lambda line: line.state == "running")[:1]
        width = 30
        filled = min(width, int(width * done / to_read))
        sys.stdout.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {min(100, 100 * done // to_read):3d}% "
            f"{done}/{to_read} {current.source_model or '':<30}"
        )
        sys.stdout.flush()

    @staticmethod
    def print_summary(run):
        sys.stdout.write(
            f"run {run.id}: {run.state}{' (dry run)' if run.dry_run else ''} in {run.duration:.1f} s\n"
        )
        sys.stdout.write(f"{'model':<30}" + "".join(f"{name:>11}" for name in COUNTERS) + "\n")
        for model, counts in run.summary().items():
            sys.stdout.write(
                f"{model:<30}" + "".join(f"{counts[name]:>11}" for name in COUNTERS) + "\n"
            )
        if run.error:
            sys.stdout.write(f"error: {run.error}\n")
