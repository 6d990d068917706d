"""`cargoman customer ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from cargoman.cli.context import unit
from cargoman.cli.output import JsonOption, emit, print_json, print_table
from cargoman.customers import service
from cargoman.pagination import MAX_PER_PAGE, PageRequest
from cargoman.web.api.v1 import serializers

app = typer.Typer(help="Manage customers.", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Customer name.")],
    email: Annotated[str | None, typer.Option("--email")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id", help="Billing system id.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Create a customer and print its first token (shown only once)."""
    with unit(as_json) as ctx:
        created = service.create_customer(ctx, name, email, external_id)
        data = serializers.customer(created.customer).model_dump(mode="json")
        data["token"] = created.first_token.plain
        data["token_id"] = created.first_token.token.id
    emit(as_json, data, "Customer created")


@app.command("list")
def list_(
    status: Annotated[str | None, typer.Option("--status")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_PER_PAGE)] = 20,
    page: Annotated[int, typer.Option("--page", min=1)] = 1,
    as_json: JsonOption = False,
) -> None:
    """List customers."""
    with unit(as_json) as ctx:
        result = service.list_customers(ctx, status, PageRequest(page=page, per_page=limit))
        rows = [serializers.customer(c) for c in result.items]
    if as_json:
        print_json(rows)
        return
    print_table(
        f"Customers (page {page} of {max(result.total_pages, 1)}, {result.total} in all)",
        ["id", "name", "email", "status", "created"],
        [[c.id, c.name, c.email, c.status, c.created_at.isoformat()] for c in rows],
    )


@app.command("show")
def show(customer_id: str, as_json: JsonOption = False) -> None:
    """Show one customer."""
    with unit(as_json) as ctx:
        data = serializers.customer(service.get_customer(ctx, customer_id))
    emit(as_json, data, "Customer")


@app.command("suspend")
def suspend(
    customer_id: str,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    as_json: JsonOption = False,
) -> None:
    """Block all downloads of a customer."""
    with unit(as_json) as ctx:
        data = serializers.customer(service.suspend_customer(ctx, customer_id, reason))
    emit(as_json, data, "Customer suspended")


@app.command("reactivate")
def reactivate(customer_id: str, as_json: JsonOption = False) -> None:
    """Restore a suspended, frozen or expired customer."""
    with unit(as_json) as ctx:
        data = serializers.customer(service.reactivate_customer(ctx, customer_id))
    emit(as_json, data, "Customer reactivated")


@app.command("delete")
def delete(
    customer_id: str,
    force: Annotated[bool, typer.Option("--force", help="Do not ask for confirmation.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete a customer with its tokens and package access."""
    if not force and not as_json:
        typer.confirm(f"Delete customer {customer_id}?", abort=True)
    with unit(as_json) as ctx:
        service.delete_customer(ctx, customer_id)
    emit(as_json, {"deleted": True, "id": customer_id}, "Customer deleted")
