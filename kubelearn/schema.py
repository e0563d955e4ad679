"""The OpenAPI schema generator, apart from kubelearn.api: DRF imports that module while it
loads its settings (pagination), and drf-spectacular's AutoSchema imports DRF's views."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import permissions


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, knowing our permission classes that leave reads open."""

    def get_auth(self) -> list[dict[str, list[str]]]:
        auths = super().get_auth()
        open_reads = any(
            getattr(permission, "open_for_reads", False)
            for permission in self.view.get_permissions()
        )
        if open_reads and self.method in permissions.SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths
