"""The GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec).

A request carries the form fields ``operations`` (the JSON request or batch, files as ``null``),
``map`` (``{"0": ["variables.file"]}``: which file part goes where) and the file parts. A file may
only fill a variable its operation declares as ``Upload``: only such a request gets the longer
execution budget of an upload. The body is
refused while it streams in once it passes UPLOAD_MAX_BYTES plus room for the form itself, the same
cap as the REST upload.

CSRF: multipart/form-data is a "simple" content type, so a page on another site could make a browser
post one without a CORS preflight (hence Apollo's ``Apollo-Require-Preflight`` header). That attack
rides on ambient credentials (cookies); /graphql only accepts a bearer token in the Authorization
header, which such a page cannot set, and a cross-site form without it is answered UNAUTHORIZED. So
no extra header is required.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLSyntaxError,
    ListTypeNode,
    NamedTypeNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    TypeNode,
    parse,
)
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from cargoman.web.body_limit import capped_request
from cargoman.web.graphql.http_transport import (
    GraphQLRequest,
    Operations,
    RequestRejected,
    bad_request,
    decode_json,
    operations_from_json,
)

MAX_FILES = 10
# Room for the boundaries and the operations and map fields around the files.
FORM_OVERHEAD = 256 * 1024


def _too_large(limit: int) -> RequestRejected:
    return RequestRejected(
        413,
        "VALIDATION_ERROR",
        f"file: is larger than the upload limit of {limit} bytes",
        field="file",
    )


async def read_form(request: Request, upload_limit: int) -> FormData:
    """The form, refused as soon as the body grows past ``upload_limit`` + the form's overhead."""
    capped = capped_request(request, upload_limit + FORM_OVERHEAD, lambda: _too_large(upload_limit))
    try:
        return await capped.form(max_files=MAX_FILES, max_fields=MAX_FILES + 2)
    except HTTPException as exc:  # malformed multipart bodies, too many parts
        raise bad_request(f"The multipart request cannot be read: {exc.detail}") from exc


def _text_field(form: FormData, name: str) -> str:
    value = form.get(name)
    if value is None:
        raise bad_request(f"A multipart GraphQL request needs the '{name}' field")
    if not isinstance(value, str):
        raise bad_request(f"The '{name}' field must be text, not a file")
    return value


def _place(operations: Any, path: str, file: UploadFile) -> None:
    """Put ``file`` where ``path`` (``variables.file``, ``0.variables.files.1``) points; it must be null."""
    keys = path.split(".")
    if "variables" not in keys[:2]:
        raise bad_request(f"map path '{path}' must point into the variables of an operation")
    target = operations
    for position, key in enumerate(keys):
        last = position == len(keys) - 1
        if isinstance(target, list) and key.isdigit() and int(key) < len(target):
            index: int | str = int(key)
        elif isinstance(target, dict) and key in target:
            index = key
        else:
            raise bad_request(f"map path '{path}' does not exist in operations")
        if last:
            if target[index] is not None:
                raise bad_request(f"map path '{path}' must point to a null placeholder")
            target[index] = file
        else:
            target = target[index]


def operations_from_form(form: FormData) -> Operations:
    operations = decode_json(_text_field(form, "operations"), "The 'operations' field")
    files_map = decode_json(_text_field(form, "map"), "The 'map' field")
    if not isinstance(files_map, dict):
        raise bad_request("The 'map' field must be a JSON object of file part name -> paths")
    for part, paths in files_map.items():
        file = form.get(part)
        if not isinstance(file, UploadFile):
            raise bad_request(f"The map names the file part '{part}', which the request lacks")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise bad_request(f"The map entry '{part}' must be a non-empty array of paths")
        for path in paths:
            _place(operations, path, file)
    parsed = operations_from_json(operations)
    for paths in files_map.values():
        for path in paths:
            _check_fills_an_upload_variable(parsed, path)
    # Every file now fills a declared Upload variable: only then does the request get the upload budget.
    return Operations(parsed.items, parsed.batched, carries_files=bool(files_map))


def _check_fills_an_upload_variable(parsed: Operations, path: str) -> None:
    """A file may only go into a variable its operation declares as ``Upload`` (or a list of them):
    anywhere else it would buy a longer execution budget without being an upload."""
    keys = path.split(".")
    if parsed.batched:
        index, keys = int(keys[0]), keys[1:]  # _place has checked that the index exists
    else:
        index = 0
    if len(keys) < 2 or keys[0] != "variables":
        raise bad_request(f"map path '{path}' must point into the variables of an operation")
    variable = keys[1]
    if _declared_type(parsed.items[index], variable) != "Upload":
        raise bad_request(
            f"map path '{path}' fills ${variable}, which the operation does not declare with type Upload"
        )


def _declared_type(gql: GraphQLRequest, variable: str) -> str | None:
    """The named type (lists and non-null unwrapped) the operation ``gql`` runs declares for
    ``$variable``; None when it declares no such variable."""
    try:
        document = parse(gql.query, no_location=True)
    except GraphQLSyntaxError as exc:
        raise bad_request(f"The query of a multipart request cannot be parsed: {exc.message}") from exc
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if gql.operation_name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == gql.operation_name]
    if len(operations) != 1:
        raise bad_request("The map of a multipart request must name variables of one operation")
    for definition in operations[0].variable_definitions or ():
        if definition.variable.name.value == variable:
            return _named_type(definition.type)
    return None


def _named_type(node: TypeNode) -> str:
    while isinstance(node, (NonNullTypeNode, ListTypeNode)):
        node = node.type
    assert isinstance(node, NamedTypeNode)
    return node.name.value
