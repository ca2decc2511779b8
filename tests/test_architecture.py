"""The import graph that the folders show, and what every module owes its reader:

    ingest                   never imports digest
    digest.claims            text to claims: imports no other digest subpackage, and only its
                             storage edge (store, schema) imports SQLAlchemy
    digest.compose           claims to rendered digests: never imports mail or runtime
    digest.mail              never imports runtime
    digest.runtime           the top (settings, the root App, service, CLI, daemon): nothing
                             else imports it, so only runtime reaches the App; the CLI and the
                             daemon reach storage only through runtime.service

and every module opens with a docstring that says what it owns.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ingest", "digest")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: str) -> dict[str, Path]:
    return {module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))}


def imported_modules(path: Path, *, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, *packages: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def offenders(package: str, forbidden: tuple[str, ...], *, unless: tuple[str, ...] = ()) -> dict:
    found = {
        name: sorted(m for m in imported_modules(path) if within(m, *forbidden))
        for name, path in modules(package).items()
        if not within(name, *unless)
    }
    return {name: bad for name, bad in found.items() if bad}


def test_ingest_never_imports_digest() -> None:
    assert offenders("ingest", ("digest",)) == {}


def test_claims_import_no_other_digest_subpackage() -> None:
    others = ("digest.compose", "digest.mail", "digest.runtime")
    assert offenders("digest/claims", others) == {}


def test_only_the_claims_storage_edge_imports_sqlalchemy() -> None:
    edge = ("digest.claims.store", "digest.claims.schema")
    assert offenders("digest/claims", ("sqlalchemy",), unless=edge) == {}


def test_compose_imports_neither_mail_nor_runtime() -> None:
    assert offenders("digest/compose", ("digest.mail", "digest.runtime")) == {}


def test_mail_never_imports_runtime() -> None:
    assert offenders("digest/mail", ("digest.runtime",)) == {}


def test_nothing_below_runtime_imports_it_so_only_runtime_reaches_the_app() -> None:
    below = ("digest/claims", "digest/compose", "digest/mail")
    assert {k: v for p in below for k, v in offenders(p, ("digest.runtime",)).items()} == {}
    lone = [name for name, path in modules("digest").items() if path.parent == ROOT / "digest"]
    assert lone == ["digest"]  # every other module belongs to a subpackage


def test_the_cli_and_the_daemon_reach_storage_only_through_the_service() -> None:
    storage = (
        "sqlalchemy",
        "digest.claims",
        "digest.compose",
        "digest.mail",
        "digest.runtime.migrations",
        *(f"ingest.{m}" for m in ("db", "schema", "store", "documents", "pipeline", "verify")),
    )
    for name in ("cli", "daemon"):
        path = ROOT / "digest" / "runtime" / f"{name}.py"
        assert sorted(m for m in imported_modules(path) if within(m, *storage)) == [], name


def test_the_entry_module_imports_only_the_standard_library_until_called() -> None:
    # A worker process started with "spawn" imports the main module again.
    imported = imported_modules(ROOT / "digest" / "runtime" / "__main__.py", top_level_only=True)
    ours = {m.split(".")[0] for m in imported} - {"__future__"}
    assert ours <= set(sys.stdlib_module_names)
    for package in (ROOT / "digest", ROOT / "digest" / "runtime"):  # imported before it
        assert imported_modules(package / "__init__.py") == set()


def test_every_module_opens_with_a_docstring_saying_what_it_owns() -> None:
    missing = [
        name
        for package in PACKAGES
        for name, path in modules(package).items()
        if not (ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "").strip()
    ]
    assert missing == []
