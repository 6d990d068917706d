"""`cargoman token ...`"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from cargoman.cli.context import runtime, unit
from cargoman.cli.output import JsonOption, emit, print_json, print_table
from cargoman.timeutil import utcnow
from cargoman.tokens import service
from cargoman.web.api.v1 import serializers

app = typer.Typer(help="Manage customer tokens.", no_args_is_help=True)


@app.command("create")
def create(
    customer: Annotated[str, typer.Option("--customer", help="Customer id.")],
    scope: Annotated[
        str, typer.Option("--scope", help="admin, developer, download or webhook.")
    ] = "download",
    name: Annotated[str, typer.Option("--name")] = "CLI token",
    packages: Annotated[
        list[str] | None, typer.Option("--packages", help="Package pattern such as vendor/*; repeatable.")
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days", min=1)] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a scoped token; the plain token is printed only now."""
    expires_at = utcnow() + timedelta(days=expires_in_days) if expires_in_days else None
    with unit(as_json) as ctx:
        issued = service.create_token(ctx, customer, name, scope, packages or [], expires_at)
        data = serializers.token_created(issued.token, issued.plain, runtime().settings.base_url)
    emit(as_json, data.model_dump(mode="json"), "Token created")


@app.command("list")
def list_(customer_id: str, as_json: JsonOption = False) -> None:
    """List a customer's active tokens."""
    with unit(as_json) as ctx:
        rows = [serializers.token(t) for t in service.list_tokens(ctx, customer_id)]
    if as_json:
        print_json(rows)
        return
    print_table(
        "Tokens",
        ["id", "name", "scope", "packages", "expires", "last used"],
        [
            [t.id, t.name, t.scope, ", ".join(t.package_scopes) or "*", t.expires_at, t.last_used_at]
            for t in rows
        ],
    )


@app.command("show")
def show(token_id: str, as_json: JsonOption = False) -> None:
    """Show one token (never its secret)."""
    with unit(as_json) as ctx:
        data = serializers.token(service.get_token(ctx, token_id))
    emit(as_json, data, "Token")


@app.command("rotate")
def rotate(token_id: str, as_json: JsonOption = False) -> None:
    """New secret, same settings; the old secret stops working at once."""
    with unit(as_json) as ctx:
        issued = service.rotate_token(ctx, token_id)
        data = serializers.token_created(issued.token, issued.plain, runtime().settings.base_url)
    emit(as_json, data.model_dump(mode="json"), "Token rotated")


@app.command("revoke")
def revoke(token_id: str, as_json: JsonOption = False) -> None:
    """Revoke a token."""
    with unit(as_json) as ctx:
        data = serializers.token(service.revoke_token(ctx, token_id))
    emit(as_json, data, "Token revoked")
