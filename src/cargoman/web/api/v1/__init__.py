"""REST API v1: routers, request/response schemas and serializers."""
