"""The theme's page templates, compiled while the database read waits on the server.

MkDocs compiles the theme's templates (Material's base.html and its partials) on the
first page it renders, after every page is converted: a fifth of a second on the one
core the build's last stretch runs on. A copy of the theme's environment compiles them
during the read instead, into a bytecode cache that the build's environment is given in
on_env, if it still compiles as the copy did: a plugin may add an extension or a filter
to it in between, and then the build compiles its templates itself, as it would have.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jinja2
import jinja2.meta
from jinja2.bccache import Bucket

from .render.cards import CompiledTemplates

# What a page render starts from; what they include is found by reading them.
PAGE_TEMPLATES = ("main.html", "404.html", "sitemap.xml")


class CompiledAhead(CompiledTemplates):
    """The theme's templates compiled in advance, with the signature of the environment
    that compiled them."""

    def __init__(self) -> None:
        super().__init__()
        self.signature: tuple[Any, ...] | None = None
        self.hits = 0

    def load_bytecode(self, bucket: Bucket) -> None:
        super().load_bytecode(bucket)
        self.hits += bucket.code is not None

    def fill(self, env: jinja2.Environment, names: Iterable[str] = PAGE_TEMPLATES) -> None:
        """Compile `names` and every template they name, as `env` compiles them. A template
        that does not compile here is left to the build, which reports it as it would."""
        self.signature = signature(env)
        waiting, seen = list(names), set()
        while waiting:
            name = waiting.pop()
            if name in seen:
                continue
            seen.add(name)
            try:
                source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
                tree = env.parse(source, name, filename)
                bucket = self.get_bucket(env, name, filename, source)
                waiting += [n for n in jinja2.meta.find_referenced_templates(tree) if n]
                bucket.code = env.compile(tree, name, filename)
            except (jinja2.TemplateError, OSError, UnicodeDecodeError):
                continue
            self.set_bucket(bucket)

    def imported(self, code: dict[str, bytes], env: jinja2.Environment) -> None:
        """Templates another process compiled (its `code`) as `env` compiles them."""
        self.signature = signature(env)
        self.code.update(code)

    def give_to(self, env: jinja2.Environment) -> bool:
        """Whether `env`, the build's, compiles as the one that filled the cache did (and
        now uses it)."""
        if self.signature is None or signature(env) != self.signature or env.bytecode_cache is not None:
            return False
        env.bytecode_cache = self
        return True


_PLAIN = (str, bool, int, float, tuple, type(None))


def signature(env: jinja2.Environment) -> tuple[Any, ...]:
    """What compiling a template depends on: the syntax settings and whatever extensions
    set on the environment (plain values), the finalize and autoescape functions, the
    extensions' names, and the filters and tests (compiling checks that each exists, and
    calls those given constant arguments, to fold them)."""
    settings = sorted((k, v) for k, v in vars(env).items() if isinstance(v, _PLAIN) and k != "bytecode_cache")
    return (
        type(env),
        tuple(settings),
        env.finalize,
        env.autoescape,
        tuple(sorted(env.extensions)),
        tuple(sorted(env.filters.items(), key=lambda item: item[0])),
        tuple(sorted(env.tests.items(), key=lambda item: item[0])),
    )
