"""The import rules of docs/architecture.md, enforced by reading every module's AST."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("catalog", "recommender", "kubelearn")

# The feed pipeline in data-flow order: a module may import only modules before it.
FEED_FLOW = [
    "address",
    "transport",
    "decoding",
    "fetch",
    "discovery",
    "sanitise",
    "entries",
    "expat",
    "fastcopy",
    "parse",
    "opml",
    "store",
    "schedule",
    "poll",
    "check",
    "tasks",
    "services",
]
# The fetch-and-parse half of the pipeline handles hostile bytes and needs no database.
FEED_PURE = set(FEED_FLOW[: FEED_FLOW.index("opml") + 1])


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if "migrations" not in path.parts
    }


MODULES = _project_modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, *, top_level_only: bool) -> set[str]:
    """Absolute names a module imports (each `from a.b import c` counts as a.b and a.b.c)."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    names: set[str] = set()

    def visit(nodes: list[ast.stmt], *, nested: bool) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                continue  # annotations only: no runtime edge
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{parent}.{base}" if base else parent
                names.add(base)
                names.update(f"{base}.{alias.name}" for alias in node.names)
            if top_level_only and isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            ):
                continue
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list) and children and isinstance(children[0], ast.AST):
                    visit(
                        [c for c in children if isinstance(c, ast.stmt | ast.ExceptHandler)],
                        nested=nested or isinstance(node, ast.FunctionDef),
                    )

    visit(tree.body, nested=False)
    return names


def _project_edges(module: str, *, top_level_only: bool = True) -> set[str]:
    return {name for name in _imports(module, top_level_only=top_level_only) if name in MODULES}


def _all_imports(module: str) -> set[str]:
    return _imports(module, top_level_only=False)


def test_the_rules_see_every_app():
    assert "catalog.feeds.fetch" in MODULES and "recommender.engine.model" in MODULES


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("catalog")))
def test_catalog_never_imports_the_recommender(module):
    assert not {n for n in _all_imports(module) if n.split(".")[0] == "recommender"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("recommender.engine")))
def test_the_engine_is_plain_python(module):
    """No Django, no ORM, nothing of the project outside the engine itself."""
    for name in _all_imports(module):
        top = name.split(".")[0]
        assert top not in {"django", "rest_framework", "celery", "catalog", "kubelearn"}, name
        if top == "recommender":
            assert name.startswith("recommender.engine"), name


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("recommender")))
def test_the_recommender_does_not_reach_into_feed_ingestion(module):
    assert not {n for n in _all_imports(module) if n.startswith("catalog.feeds")}


@pytest.mark.parametrize("step", FEED_FLOW)
def test_feed_modules_import_only_earlier_steps_of_the_flow(step):
    earlier = set(FEED_FLOW[: FEED_FLOW.index(step)])
    for name in _all_imports(f"catalog.feeds.{step}"):
        if name.startswith("catalog.feeds."):
            assert name.split(".")[2] in earlier, f"{step} imports {name}"


@pytest.mark.parametrize("step", sorted(FEED_PURE))
def test_the_fetch_and_parse_steps_need_no_django(step):
    for name in _all_imports(f"catalog.feeds.{step}"):
        top = name.split(".")[0]
        assert top != "django", f"{step} imports {name}"
        if top == "catalog":
            assert name.startswith(("catalog.feeds", "catalog.addresses")), f"{step}: {name}"


def test_there_are_no_import_cycles():
    graph = {
        module: _project_edges(module) | DEFERRED_IMPORTS.get(module, set()) for module in MODULES
    }
    for module, edges in graph.items():
        # `from catalog.feeds import poll` is an edge to the package and to poll; the
        # package's own __init__ imports nothing, so only the submodule edge matters.
        graph[module] = {e for e in edges if e != module}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> None:
        if module in done:
            return
        assert module not in visiting, " -> ".join([*visiting, module])
        visiting.append(module)
        for target in sorted(graph[module]):
            visit(target)
        visiting.pop()
        done.add(module)

    for module in sorted(graph):
        visit(module)


# Imports deliberately made on first use, each with its reason; the cycle check counts them.
DEFERRED_IMPORTS = {
    # The queue brings the engine (numpy, scipy) and the API's serializers; the signal's
    # services and tasks bring the engine. Every process that starts Django (the poller,
    # management commands, beat) would otherwise load them: ~1.3 s of each start-up.
    "recommender.admin": {"recommender.queue"},
    "recommender.suggestions": {"recommender.queue"},
    "recommender.signals": {"recommender.services", "recommender.tasks"},
}


def test_no_project_imports_hide_inside_functions():
    """Imports inside functions are how cycles hide; only AppConfig.ready may do it, and the
    few deferred on purpose (DEFERRED_IMPORTS)."""
    for module in MODULES:
        if module.endswith(".apps"):
            continue
        hidden = _project_edges(module, top_level_only=False) - _project_edges(module)
        deferred = DEFERRED_IMPORTS.get(module, set())
        hidden -= {name.rpartition(".")[0] for name in deferred}  # `from package import x`
        assert hidden == deferred, f"{module} imports {sorted(hidden)} inside a function"


def _fresh_python(code: str) -> str:
    """Run ``code`` in a new interpreter with the test settings: what a process that starts
    now would import. Returns what it printed."""
    import subprocess
    import sys

    env = {"DJANGO_SETTINGS_MODULE": "kubelearn.settings_test", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_starting_django_does_not_import_the_apps_admin_modules():
    """A poller or a Celery worker never serves the admin: its ModelAdmins (and the forms and
    filters they import) are imported by the URLconf, not by every start of Django."""
    code = (
        "import django, sys; django.setup(); "
        "print(sorted(m for m in sys.modules if m.endswith('.admin') and 'contrib' not in m))"
    )
    assert _fresh_python(code) == "[]"


def test_the_urlconf_and_the_admin_checks_each_discover_the_admin_modules():
    """Whichever comes first in a process (the URLconf in a web process; the admin's system
    checks in ``manage.py check``, in no set order with the URL checks), the ModelAdmins are
    registered before the admin is served or checked."""
    registered = (
        "from django.contrib import admin; from catalog.models import Resource; "
        "print(admin.site.is_registered(Resource))"
    )
    served = "import django; django.setup(); import kubelearn.urls; " + registered
    checked = (
        "import django; django.setup(); from django.core import checks; "
        "checks.run_checks(tags=[checks.Tags.admin]); " + registered
    )
    assert (_fresh_python(served), _fresh_python(checked)) == ("True", "True")


def test_starting_django_loads_neither_the_engine_nor_the_api():
    """What a poller or a management command pays at start-up: Django, the models and the
    feed pipeline; not numpy, scipy or Django REST framework's serializers (loaded on
    first use)."""
    code = (
        "import django, sys; django.setup(); "
        "from django.contrib import admin; admin.autodiscover(); "
        "import catalog.feeds.poll, catalog.feeds.tasks; "
        "print(sorted(set(sys.modules) & "
        "{'numpy', 'scipy', 'sklearn', 'rest_framework.serializers'}))"
    )
    assert _fresh_python(code) == "[]"


def test_starting_django_and_the_poller_does_not_import_scikit_learn():
    """Importing scikit-learn takes seconds; a process that never fits (poll_feeds, beat,
    check commands) must not pay for it at start-up (see recommender/engine/text.py)."""
    code = (
        "import django, sys; django.setup(); "
        "from django.contrib import admin; admin.autodiscover(); "
        "import catalog.feeds.poll, catalog.feeds.tasks, recommender.tasks, recommender.queue; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))"
    )
    assert _fresh_python(code) == "[]"


def test_the_vectoriser_class_loads_scikit_learn_when_first_used():
    from recommender.engine import text

    vectoriser = text.make_tfidf()
    assert type(vectoriser) is text.CatalogTfidfVectorizer
    assert "the" in text.STOP_WORDS


def test_a_web_process_loads_its_views_and_the_engine_before_the_first_request():
    code = (
        "import sys; import kubelearn.wsgi; "
        "print(all(m in sys.modules for m in ('learn.views', 'recommender.queue', 'numpy')))"
    )
    assert _fresh_python(code) == "True"
