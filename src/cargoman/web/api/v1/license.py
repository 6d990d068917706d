"""The running edition, its features and limits, and the state of the license key."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from cargoman.config import Settings
from cargoman.editions import FEATURE_TITLES, edition_info
from cargoman.web.api.auth import Admin, RuntimeDep
from cargoman.web.api.v1 import schemas
from cargoman.web.api.v1.common import ERRORS, envelope

router = APIRouter(tags=["license"], responses=ERRORS)

# Until offline RSA verification (LICENSE_PUBLIC_KEY) lands, a key is reported, never trusted.
NOT_VERIFIED = "license verification is not available in this version; the key was not checked"


class FeatureOut(BaseModel):
    name: str
    title: str


class LicenseKeyOut(BaseModel):
    license_key_present: bool
    verified: bool
    reason: str


class LicenseOut(BaseModel):
    edition: str
    edition_title: str
    license_required: bool
    # True when the edition may run as configured: it needs no license, or its license is verified.
    licensed: bool
    # The license key's state; null when the edition needs none and none is configured.
    license: LicenseKeyOut | None
    features: list[FeatureOut]
    # None means unlimited.
    limits: dict[str, int | None]


def license_report(settings: Settings) -> LicenseOut:
    info = edition_info(settings.edition)
    key_present = bool(settings.license_key and settings.license_key.strip())
    key: LicenseKeyOut | None = None
    if key_present:
        key = LicenseKeyOut(license_key_present=True, verified=False, reason=NOT_VERIFIED)
    elif info.license_required:
        key = LicenseKeyOut(
            license_key_present=False,
            verified=False,
            reason=f"the {info.title} edition needs a license key: set LICENSE_KEY",
        )
    verified = key is not None and key.verified
    return LicenseOut(
        edition=info.name,
        edition_title=info.title,
        license_required=info.license_required,
        licensed=not info.license_required or verified,
        license=key,
        features=[
            FeatureOut(name=feature.value, title=FEATURE_TITLES[feature])
            for feature in FEATURE_TITLES
            if feature in info.features
        ],
        limits=asdict(info.limits),
    )


@router.get("/license", response_model=schemas.Envelope[LicenseOut], summary="License and edition")
def get_license(admin: Admin, runtime: RuntimeDep) -> dict[str, Any]:
    return envelope(license_report(runtime.settings))
