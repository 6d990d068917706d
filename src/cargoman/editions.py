"""The editions guide as data: which features and limits each edition has.

Every gated route asks `require_feature`; nothing else in the code compares edition names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Feature(StrEnum):
    REST_API = "rest_api"
    COMPOSER_V2 = "composer_v2"
    TOKEN_AUTH = "token_auth"
    GIT_WEBHOOKS = "git_webhooks"
    GRAPHQL = "graphql"
    VULNERABILITY_SCANNING = "vulnerability_scanning"
    DOWNLOAD_ANALYTICS = "download_analytics"
    CUSTOM_DOMAIN = "custom_domain"
    RBAC = "rbac"
    AUDIT_LOGS = "audit_logs"
    PACKAGIST_PROXY = "packagist_proxy"
    SSO_LDAP = "sso_ldap"
    POSTGRESQL = "postgresql"
    OAUTH_LOGIN = "oauth_login"
    GLOBAL_CDN = "global_cdn"
    USAGE_METERING = "usage_metering"
    MULTI_TENANT = "multi_tenant"
    SAML = "saml"
    EXPORTABLE_AUDIT_LOGS = "exportable_audit_logs"
    DEDICATED_SUPPORT = "dedicated_support"
    DATA_RESIDENCY = "data_residency"


FEATURE_TITLES: dict[Feature, str] = {
    Feature.REST_API: "REST API",
    Feature.COMPOSER_V2: "Composer Protocol v2",
    Feature.TOKEN_AUTH: "Basic token authentication",
    Feature.GIT_WEBHOOKS: "Git provider webhooks",
    Feature.GRAPHQL: "GraphQL API",
    Feature.VULNERABILITY_SCANNING: "Vulnerability scanning",
    Feature.DOWNLOAD_ANALYTICS: "Download analytics",
    Feature.CUSTOM_DOMAIN: "Custom domain",
    Feature.RBAC: "Role-based access control",
    Feature.AUDIT_LOGS: "Audit logs",
    Feature.PACKAGIST_PROXY: "Packagist proxy",
    Feature.SSO_LDAP: "SSO/LDAP",
    Feature.POSTGRESQL: "PostgreSQL support",
    Feature.OAUTH_LOGIN: "OAuth login",
    Feature.GLOBAL_CDN: "Global CDN",
    Feature.USAGE_METERING: "Usage metering",
    Feature.MULTI_TENANT: "Multi-tenant support",
    Feature.SAML: "SAML/Active Directory",
    Feature.EXPORTABLE_AUDIT_LOGS: "Exportable audit logs",
    Feature.DEDICATED_SUPPORT: "Dedicated support channel",
    Feature.DATA_RESIDENCY: "Data residency options",
}

_CORE = frozenset({Feature.REST_API, Feature.COMPOSER_V2, Feature.TOKEN_AUTH, Feature.GIT_WEBHOOKS})
_PRO = _CORE | {
    Feature.GRAPHQL,
    Feature.VULNERABILITY_SCANNING,
    Feature.DOWNLOAD_ANALYTICS,
    Feature.CUSTOM_DOMAIN,
    Feature.RBAC,
    Feature.AUDIT_LOGS,
    Feature.PACKAGIST_PROXY,
    Feature.SSO_LDAP,
    Feature.POSTGRESQL,
}
_CLOUD = _PRO | {Feature.OAUTH_LOGIN, Feature.GLOBAL_CDN, Feature.USAGE_METERING, Feature.MULTI_TENANT}
# Enterprise is "Cloud and above" minus multi-tenancy (Cloud only), plus its own features.
_ENTERPRISE = (_CLOUD - {Feature.MULTI_TENANT}) | {
    Feature.SAML,
    Feature.EXPORTABLE_AUDIT_LOGS,
    Feature.DEDICATED_SUPPORT,
    Feature.DATA_RESIDENCY,
}

GB = 1024**3
UNLIMITED = None


@dataclass(frozen=True)
class EditionLimits:
    """`None` means unlimited."""

    rate_limit_per_minute: int | None
    storage_bytes: int | None
    bandwidth_bytes_per_month: int | None
    team_seats: int | None
    webhooks_per_day: int | None
    graphql_max_complexity: int | None


@dataclass(frozen=True)
class EditionInfo:
    name: str
    title: str
    features: frozenset[Feature]
    limits: EditionLimits
    license_required: bool


EDITIONS: dict[str, EditionInfo] = {
    "community": EditionInfo(
        "community", "Community", _CORE, EditionLimits(30, 2 * GB, 10 * GB, 3, 10, None), False
    ),
    "pro": EditionInfo("pro", "Pro", _PRO, EditionLimits(120, 50 * GB, 500 * GB, None, 100, 500), True),
    "cloud": EditionInfo(
        "cloud", "Cloud", _CLOUD, EditionLimits(300, 100 * GB, 1024 * GB, None, None, 1000), False
    ),
    "enterprise": EditionInfo(
        "enterprise", "Enterprise", _ENTERPRISE, EditionLimits(None, None, None, None, None, None), False
    ),
}


class FeatureNotAvailable(Exception):
    def __init__(self, feature: Feature, edition: str) -> None:
        self.feature = feature
        self.edition = edition
        title = EDITIONS[edition].title
        super().__init__(f"{FEATURE_TITLES[feature]} is not available in {title} edition")


def edition_info(edition: str) -> EditionInfo:
    return EDITIONS[edition]


def has_feature(edition: str, feature: Feature) -> bool:
    return feature in EDITIONS[edition].features


def require_feature(edition: str, feature: Feature) -> None:
    if not has_feature(edition, feature):
        raise FeatureNotAvailable(feature, edition)
