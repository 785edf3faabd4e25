"""One run of a plan: the phases of DESIGN.md, and nothing else.

pre hook -> one pass per model, in dependency order -> the second pass of each model ->
post hook -> recomputations -> end hook. The passes are ``ModelPass``'s; what they share
is the ``RunContext``. A hook runs once per run: a resumed run skips those it ran.
"""

from .bodies import compile_body
from .model_pass import ModelPass, Policy


class Runner:
    def __init__(self, ctx, *, models=None, since=None, only_ids=None, states=None, hooks_done=()):
        """``models``: a subset of source models; ``since``: ``{model: start}`` of an
        incremental run; ``only_ids``: ``{model: ids}`` of a retry; ``states``: ``{model:
        state}`` of the lines of a resumed run; ``hooks_done``: the hooks it ran already."""
        self.ctx = ctx
        self.models = models
        self.since = since or {}
        self.only_ids = only_ids
        self.states = states or {}
        self.hooks_done = set(hooks_done)

    @property
    def rules(self):
        """The rules this run migrates, in the plan's order."""
        return [
            rule
            for rule in sorted(self.ctx.rules, key=lambda r: r.sequence or 0)
            if (self.models is None or rule.source_model in self.models)
            and (self.only_ids is None or rule.source_model in self.only_ids)
        ]

    def policy(self, model):
        return Policy(
            since=self.since.get(model),
            only_ids=self.only_ids,
            on_error=self.ctx.options.get("on_error", "log"),
        )

    def run(self):
        passes, rules = ModelPass(self.ctx), self.rules
        self.hook("pre")
        first = [
            rule.source_model
            for rule in rules
            if self.states.get(rule.source_model) in (None, "pending", "running", "stopped")
        ]
        try:
            for model, then in zip(first, [*first[1:], None], strict=False):
                passes.migrate_range(
                    model,
                    policy=self.policy(model),
                    then=then and (then, self.policy(then)),
                )
        finally:
            self.ctx.stop_reading()
        for rule in rules:
            if self.states.get(rule.source_model) != "done":
                passes.second_pass(rule.source_model, self.policy(rule.source_model))
        self.hook("post")
        self.ctx.env.flush_all()  # stored computed fields and parent paths of what was written
        self.hook("end")
        return self.ctx.journal

    def hook(self, name):
        """Run the plan's ``name`` hook, unless this run ran it already."""
        body = (self.ctx.spec.hooks.get(name) or "").strip()
        if not body or name in self.hooks_done or self.only_ids is not None:
            return
        function = compile_body(
            body, self.ctx.bodies.names(), arguments=(), filename=f"{name} hook"
        )
        try:
            with self.ctx.env.cr.savepoint():
                function()
        except Exception as exc:
            raise RuntimeError(f"the {name} hook failed: {type(exc).__name__}: {exc}") from exc
        self.ctx.journal.log("info", f"{name} hook done")
        self.ctx.journal.hooks.append(name)
        # kept whatever comes next: a batch retried or a run resumed never runs it again
        self.ctx.checkpoint()
