"""Which credentials a Git fetch of a package repository uses."""

from cargoman.git_credentials.base import CredentialSource, GitCredential
from cargoman.git_credentials.resolver import SOURCES, resolve_credential

__all__ = ["SOURCES", "CredentialSource", "GitCredential", "resolve_credential"]
