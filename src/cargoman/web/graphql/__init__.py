"""The GraphQL API (Pro and higher): ``POST /graphql``, read side (queries) for now."""

from cargoman.web.graphql.router import build_graphql_router

__all__ = ["build_graphql_router"]
