"""`cargoman package ...`"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from cargoman.cli.context import EXIT_ERROR, runtime, unit
from cargoman.cli.output import JsonOption, console, emit, err_console, print_json, print_table
from cargoman.db.models import DEFAULT_TENANT_ID, Package
from cargoman.packages import service
from cargoman.packages.sync import sync_package
from cargoman.pagination import MAX_PER_PAGE, PageRequest
from cargoman.web.api.v1 import package_schemas, serializers

app = typer.Typer(help="Manage packages.", no_args_is_help=True)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Git repository URL.")],
    name: Annotated[
        str | None, typer.Option("--name", help="vendor/name; read from composer.json if omitted.")
    ] = None,
    repository_type: Annotated[str, typer.Option("--type", help="git, github, gitlab or bitbucket.")] = "git",
    monorepo: Annotated[
        str | None,
        typer.Option(
            "--monorepo",
            help='Glob of the children\'s composer.json, e.g. "packages/*/composer.json" (needs --name).',
        ),
    ] = None,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Only queue the first sync.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a package (or with --monorepo a monorepo root) from a Git repository and sync it."""
    with unit(as_json) as ctx:
        added = service.add_package(ctx, url, repository_type, name, monorepo)
        package_id, package_name = added.package.id, added.package.name
    report = None if no_sync else _sync_now(package_id, package_name, as_json)
    with unit(as_json) as ctx:
        data = serializers.package(service.get_package(ctx, package_name)).model_dump(mode="json")
    if report is not None:
        data["sync"] = report
    emit(as_json, data, "Package added")


def _sync_now(package_id: str, package_name: str, as_json: bool) -> dict[str, object]:
    rt = runtime()
    try:
        if as_json:
            return sync_package(rt, DEFAULT_TENANT_ID, package_id).as_dict()
        with console.status(f"Syncing {package_name}…"):
            return sync_package(rt, DEFAULT_TENANT_ID, package_id).as_dict()
    except Exception as exc:
        if as_json:
            print_json({"error": {"code": "SYNC_FAILED", "message": str(exc)}})
        else:
            err_console.print(f"[red]Sync of {package_name} failed:[/red] {exc}")
        raise typer.Exit(EXIT_ERROR) from exc


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_PER_PAGE)] = 100,
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """List packages."""
    with unit(as_json) as ctx:
        result = service.list_packages(ctx, PageRequest(page=page, per_page=limit))
        rows = [serializers.package(p) for p in result.items]
    if as_json:
        print_json(rows)
        return
    print_table(
        f"Packages ({result.total})",
        ["name", "repository", "status", "last synced"],
        [[p.name, p.repository_url, p.sync_status, p.last_synced_at] for p in rows],
    )


@app.command("show")
def show(name: str, as_json: JsonOption = False) -> None:
    """Show a package with its versions and sync warnings."""
    with unit(as_json) as ctx:
        package = service.get_package(ctx, name, with_versions=True)
        detail = serializers.package_detail(
            package, service.sorted_versions(package), runtime().settings.base_url
        )
    if as_json:
        print_json(detail)
        return
    summary = detail.model_dump(mode="json", exclude={"versions", "sync_warnings"})
    emit(False, summary, detail.name)
    print_table(
        "Versions",
        ["version", "kind", "reference", "sha1", "yanked"],
        [[v.version, v.kind, v.reference[:12], v.dist.sha1, v.yanked] for v in detail.versions],
    )
    if detail.sync_warnings:
        print_table("Sync warnings", ["ref", "message"], [[w.ref, w.message] for w in detail.sync_warnings])


@app.command("sync")
def sync(
    name: Annotated[str | None, typer.Argument(help="vendor/name")] = None,
    all_packages: Annotated[bool, typer.Option("--all", help="Sync every package.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Sync now: fetch the repository and build archives for new or moved refs."""
    if not name and not all_packages:
        err_console.print("Give a package name or --all.")
        raise typer.Exit(EXIT_ERROR)
    with unit(as_json) as ctx:
        if all_packages:
            everything = _all(lambda request: service.list_packages(ctx, request).items)
            # Monorepo children are synced by their root.
            targets = [
                (p.id, service.start_direct_sync(ctx, p.name).name)
                for p in everything
                if p.parent_id is None and p.repository_url is not None
            ]
        else:
            package = service.start_direct_sync(ctx, name or "")
            targets = [(package.id, package.name)]
    reports = {
        package_name: _sync_now(package_id, package_name, as_json) for package_id, package_name in targets
    }
    if as_json:
        print_json(reports)
        return
    print_table(
        "Sync",
        ["package", "added", "updated", "removed", "unchanged", "warnings"],
        [
            [n, len(r["added"]), len(r["updated"]), len(r["removed"]), r["unchanged"], r["warnings"]]  # type: ignore[arg-type]
            for n, r in reports.items()
        ],
    )


@app.command("delete")
def delete(
    name: str,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a package, its versions, archives and grants."""
    if not force and not as_json:
        typer.confirm(f"Delete package {name} and all its archives?", abort=True)
    with unit(as_json) as ctx:
        service.delete_package(ctx, name, runtime().storage)
    emit(as_json, {"deleted": True, "name": name}, "Package deleted")


def _all(fetch: Callable[[PageRequest], list[Package]]) -> list[Package]:
    """Every row of a paginated listing."""
    rows: list[Package] = []
    page = 1
    while True:
        batch = fetch(PageRequest(page, MAX_PER_PAGE))
        rows += batch
        if len(batch) < MAX_PER_PAGE:
            return rows
        page += 1


monorepo_app = typer.Typer(
    help="Monorepos: one repository, one package per matching folder.", no_args_is_help=True
)
app.add_typer(monorepo_app, name="monorepo")


@monorepo_app.command("list")
def monorepo_list(as_json: JsonOption = False) -> None:
    """List monorepo root packages."""
    with unit(as_json) as ctx:
        roots = _all(lambda request: service.list_monorepo_roots(ctx, request).items)
        rows = [
            {**serializers.package(root).model_dump(mode="json"), "glob": root.monorepo_glob}
            for root in roots
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        f"Monorepos ({len(rows)})",
        ["name", "repository", "glob", "status", "last synced"],
        [[r["name"], r["repository_url"], r["glob"], r["sync_status"], r["last_synced_at"]] for r in rows],
    )


@monorepo_app.command("children")
def monorepo_children(name: str, as_json: JsonOption = False) -> None:
    """List the child packages of a monorepo root."""
    with unit(as_json) as ctx:
        info = service.monorepo_info(ctx, name)
        rows = [
            package_schemas.monorepo_child(child, info.version_counts.get(child.id, 0)).model_dump(
                mode="json"
            )
            for child in info.children
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        f"Children of {name} ({len(rows)})",
        ["name", "folder", "versions", "status", "last synced"],
        [[r["name"], r["subdir"], r["version_count"], r["sync_status"], r["last_synced_at"]] for r in rows],
    )


@monorepo_app.command("sync")
def monorepo_sync(name: str, as_json: JsonOption = False) -> None:
    """Sync a monorepo now: one fetch, then every child."""
    with unit(as_json) as ctx:
        root = service.start_direct_sync(ctx, service.get_monorepo_root(ctx, name).name)
        root_id, root_name = root.id, root.name
    report = _sync_now(root_id, root_name, as_json)
    children: dict[str, dict[str, Any]] = report.get("children", {})  # type: ignore[assignment]
    if as_json:
        print_json(report)
        return
    print_table(
        f"Sync of {root_name}",
        ["package", "added", "updated", "removed", "unchanged", "warnings"],
        [
            [n, len(r["added"]), len(r["updated"]), len(r["removed"]), r["unchanged"], r["warnings"]]
            for n, r in children.items()
        ],
    )
