"""`cargoman package ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from cargoman.cli.context import EXIT_ERROR, runtime, unit
from cargoman.cli.output import JsonOption, console, emit, err_console, print_json, print_table
from cargoman.db.models import DEFAULT_TENANT_ID
from cargoman.packages import service
from cargoman.packages.sync import sync_package
from cargoman.pagination import MAX_PER_PAGE, PageRequest
from cargoman.web.api.v1 import serializers

app = typer.Typer(help="Manage packages.", no_args_is_help=True)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="Git repository URL.")],
    name: Annotated[
        str | None, typer.Option("--name", help="vendor/name; read from composer.json if omitted.")
    ] = None,
    repository_type: Annotated[str, typer.Option("--type", help="git, github, gitlab or bitbucket.")] = "git",
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Only queue the first sync.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Add a package from a Git repository and sync it."""
    with unit(as_json) as ctx:
        added = service.add_package(ctx, url, repository_type, name)
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
            targets = [(p.id, p.name) for p in service.list_packages(ctx, PageRequest(1, MAX_PER_PAGE)).items]
            page = 2
            while len(targets) == (page - 1) * MAX_PER_PAGE:
                more = service.list_packages(ctx, PageRequest(page, MAX_PER_PAGE)).items
                targets += [(p.id, p.name) for p in more]
                page += 1
        else:
            package = service.get_package(ctx, name or "")
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
