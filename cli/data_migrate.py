"""``odoo-bin data-migrate``: run a plan from a terminal.

    odoo-bin --addons-path=PATHS data-migrate -c odoo.conf -d DB
        (--plan NAME|ID | --file plan.yaml [--plan NAME|ID])
        [--source NAME|ID | --source-url URL --source-db DB --source-login LOGIN
         [--transport jsonrpc] [--update-source]]
        [--dry-run] [--models a,b] [--incremental] [--resume]

Odoo looks for the sub-commands of addons only on an --addons-path given before the
command's name. ``--file`` updates the plan the file names (or the one ``--plan`` names)
and creates it only when there is none. A source found by its URL, database and login is
used as stored; ``--update-source`` writes the secret (and ``--transport``) given here.
The source's password or API key comes from the environment variable RDM_SOURCE_SECRET or
a prompt, never from an argument (arguments are visible to every user of the machine).

Exit codes: 0 the run is done and clean; 1 records failed (or the run failed); 2 usage or
configuration (bad arguments, a broken file, an invalid plan); 3 the source is unreachable
or refused the login.
"""

import argparse
import getpass
import os
import sys

import odoo
from odoo.cli import Command
from odoo.exceptions import UserError
from odoo.tools import config

from ..engine.journal import COUNTERS, PHASES
from ..engine.transport import RemoteError

SECRET_VARIABLE = "RDM_SOURCE_SECRET"
EXIT_CLEAN, EXIT_FAILED, EXIT_USAGE, EXIT_SOURCE = 0, 1, 2, 3
ERROR_LINES = 5  # of a failed run's log, on stderr


class InvalidInput(Exception):
    """Bad arguments, file or plan: exit code 2."""

    code = EXIT_USAGE


class SourceFailure(InvalidInput):
    """The source cannot be reached or refused the login: exit code 3."""

    code = EXIT_SOURCE


class DataMigrate(Command):
    """Run a data migration plan of remote_data_migration"""

    name = "data-migrate"

    def run(self, cmdargs):
        parser = argparse.ArgumentParser(
            prog="odoo-bin data-migrate",
            description=__doc__.split("\n\n")[0],
            epilog="Exit codes: 0 clean, 1 records failed, 2 usage or configuration, "
            "3 source unreachable or login refused.",
        )
        parser.add_argument("-c", "--config", help="Odoo configuration file")
        parser.add_argument("-d", "--database", required=True, help="the target database")
        parser.add_argument("--addons-path")
        parser.add_argument("--plan", help="name or id of a plan of the database")
        parser.add_argument(
            "--file", help="a mapping file (YAML): updates the plan it names, or creates it"
        )
        parser.add_argument("--source", help="name or id of a source of the database")
        parser.add_argument("--source-url")
        parser.add_argument("--source-db")
        parser.add_argument("--source-login")
        parser.add_argument(
            "--transport",
            choices=("xmlrpc", "jsonrpc", "json2"),
            help="for a new source (default jsonrpc), or with --update-source",
        )
        parser.add_argument(
            "--update-source",
            action="store_true",
            help="write the secret (and --transport) to the existing source",
        )
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--models", help="comma-separated source models: only these")
        parser.add_argument("--incremental", action="store_true")
        parser.add_argument("--resume", action="store_true")
        args = parser.parse_args(cmdargs)
        if not (args.plan or args.file):
            parser.error("give --plan or --file")
        if args.source and any([args.source_url, args.source_db, args.source_login]):
            parser.error("give --source or --source-url/--source-db/--source-login, not both")

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
            sys.exit(exc.code)

    def migrate(self, args):
        registry = odoo.modules.registry.Registry(args.database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if "migration.plan" not in env:
                raise InvalidInput(f"remote_data_migration is not installed in {args.database}")
            try:
                plan = self.find_plan(env, args)
                self.check_source(plan)
                if not args.resume:
                    self.check_plan(plan)
                # the plan and its source are kept whatever the run does
                cr.commit()  # pylint: disable=invalid-commit
                run = self.start(plan, args)
            except UserError as exc:
                cr.rollback()
                raise InvalidInput(exc.args[0]) from None
            sys.stdout.write("\n")
            self.print_summary(run)
            # a command line has no request to end: the run record is kept here
            cr.commit()  # pylint: disable=invalid-commit
            if run.source_failure in ("unreachable", "login"):
                self.print_errors(run)
                return EXIT_SOURCE
            if run.state == "done" and not run.failed_count and run.balanced:
                return EXIT_CLEAN
            self.print_errors(run)
            return EXIT_FAILED

    # -- the plan and its source ------------------------------------------------------------------

    def find_plan(self, env, args):
        source = self.find_source(env, args)
        if args.file:
            try:
                with open(args.file, encoding="utf-8") as handle:
                    text = handle.read()
            except OSError as exc:
                raise InvalidInput(f"cannot read {args.file}: {exc.strerror}") from None
            Plan = env["migration.plan"]
            name = args.plan or Plan._parse_yaml(text).name or env._("Imported plan")
            plan = self.plan_named(env, name, missing_ok=True)
            if plan:
                plan.load_yaml(text)
            else:
                if source is None:
                    raise InvalidInput(
                        "a new plan needs its source: --source, or --source-url, --source-db "
                        "and --source-login"
                    )
                plan = Plan.import_yaml(text, source=source)
        else:
            plan = self.plan_named(env, args.plan)
        if source is not None:
            plan.source_id = source
        if not plan.source_id:
            raise InvalidInput(f"the plan {plan.name!r} has no source: give --source")
        return plan

    @staticmethod
    def plan_named(env, name, missing_ok=False):
        Plan = env["migration.plan"]
        plan = Plan.browse(int(name)).exists() if name.isdigit() else Plan
        if not plan:
            plan = Plan.search([("name", "=", name)])
        if len(plan) > 1:
            raise InvalidInput(f"{len(plan)} plans are named {name!r}: give --plan ID")
        if not plan and not missing_ok:
            raise InvalidInput(f"no plan is named {name!r}")
        return plan

    def find_source(self, env, args):
        Source = env["migration.source"]
        if args.source:
            source = Source.browse(int(args.source)).exists() if args.source.isdigit() else Source
            source = source or Source.search([("name", "=", args.source)])
            if len(source) != 1:
                raise InvalidInput(f"{len(source)} sources are named {args.source!r}")
            if args.update_source:
                source.write(self.source_values(args))
            return source
        given = [args.source_url, args.source_db, args.source_login]
        if not any(given):
            return None
        if not all(given):
            raise InvalidInput("give all of --source-url, --source-db and --source-login")
        source = Source.search(
            [
                ("url", "=", args.source_url),
                ("database", "=", args.source_db),
                ("login", "=", args.source_login),
            ],
            limit=1,
        )
        if source:  # used as stored: a command line does not change what the screens set
            if args.update_source:
                source.write(self.source_values(args))
            return source
        return Source.create(
            dict(self.source_values(args), name=f"{args.source_db} at {args.source_url}",
                 url=args.source_url, database=args.source_db, login=args.source_login)
        )  # fmt: skip

    @staticmethod
    def source_values(args):
        secret = os.environ.get(SECRET_VARIABLE)
        if secret is None:
            if not sys.stdin.isatty():
                raise InvalidInput(f"set {SECRET_VARIABLE} to the source's password or API key")
            secret = getpass.getpass("Password or API key of the source's user: ")
        values = {"secret": secret}
        if args.transport:
            values["transport"] = args.transport
        return values

    @staticmethod
    def check_source(plan):
        """Log in once before anything else: an unreachable source or a refused login is
        said as such, with its own exit code."""
        try:
            plan.source_id._transport().authenticate()
        except RemoteError as exc:
            if exc.failure in ("unreachable", "login"):
                raise SourceFailure(plan.source_id._remote_failure_message(exc)) from None
            raise InvalidInput(plan.source_id._remote_failure_message(exc)) from None

    @staticmethod
    def check_plan(plan):
        """An invalid plan is not run: its findings are printed instead."""
        problems = plan.validate()
        errors = [p for p in problems if p["severity"] == "error"]
        if errors:
            lines = [
                f"  {p['model']}{'.' + p['field'] if p['field'] else ''}: {p['message']}"
                for p in errors
            ]
            raise InvalidInput(
                f"the plan {plan.name!r} is not valid, {len(errors)} error(s):\n" + "\n".join(lines)
            )

    # -- the run ----------------------------------------------------------------------------------

    def start(self, plan, args):
        models = [m.strip() for m in args.models.split(",")] if args.models else None
        if args.resume:
            run = plan._run_to_resume()
            return run._execute(resume=True, progress=self.print_progress)
        run = plan._new_run(dry_run=args.dry_run, models=models, incremental=args.incremental)
        return run._execute(progress=self.print_progress)

    @staticmethod
    def print_progress(run, journal=None):
        """A bar, the counts and the model at work; ``journal``: what a dry run has done
        since its start (it writes nothing, the run's lines do not move)."""
        lines = run.model_ids
        to_read = sum(lines.mapped("source_count")) or 1
        done = sum(lines.mapped("read_count"))
        current = lines.filtered(lambda line: line.state in ("running", "second_pass"))
        model = current[-1:].source_model or ""
        if journal is not None:
            done = sum(counter["read"] for counter in journal.counters.values())
            model = next(reversed(journal.counters), model)
        width = 30
        filled = min(width, int(width * done / to_read))
        sys.stdout.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {min(100, 100 * done // to_read):3d}% "
            f"{done}/{to_read} {model:<30}"
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
        sys.stdout.write(
            f"\n{'seconds per phase':<30}" + "".join(f"{name.replace('_', ' '):>12}" for name in PHASES)
            + f"{'total':>9}\n"
        )  # fmt: skip
        for line in run.model_ids:
            phases = line.phase_seconds()
            sys.stdout.write(
                f"  {line.source_model:<28}" + "".join(f"{phases[name]:>12.2f}" for name in PHASES)
                + f"{line.seconds:>9.2f}\n"
            )  # fmt: skip
        if run.error:
            sys.stdout.write(f"error: {run.error}\n")

    @staticmethod
    def print_errors(run):
        """The run's error and its first error lines, on stderr (the command line has no log
        screen)."""
        if run.error:
            sys.stderr.write(f"data-migrate: {run.error}\n")
        errors = run.log_ids.filtered(lambda line: line.level == "error")
        for line in errors.sorted("id")[:ERROR_LINES]:
            where = line.source_model or ""
            if line.source_res_id:
                where += f" #{line.source_res_id}"
            sys.stderr.write(f"  {where}: {line.message}\n")
        if len(errors) > ERROR_LINES:
            sys.stderr.write(f"  ... {len(errors) - ERROR_LINES} more in run {run.id}'s log\n")
