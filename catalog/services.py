"""Write-side business logic for the catalog: curation decisions and resource edits."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from catalog.addresses import canonical_url
from catalog.models import Resource, Status
from catalog.signals import catalog_changed

logger = logging.getLogger(__name__)


class DuplicateAddress(Exception):
    """Another resource already has this canonical address."""

    def __init__(self, existing: Resource) -> None:
        super().__init__(f"Resource {existing.pk} already has this address.")
        self.existing = existing


def address_normalise(address: str | None) -> str | None:
    """The canonical form of an optional address; raises InvalidAddress on garbage."""
    if not address:
        return None
    return canonical_url(address)


def address_owner(address: str | None, *, exclude_pk: int | None = None) -> Resource | None:
    """The resource that already holds this (canonical) address, if any."""
    if not address:
        return None
    queryset = Resource.objects.filter(url=address)
    if exclude_pk is not None:
        queryset = queryset.exclude(pk=exclude_pk)
    return queryset.first()


_M2M_FIELDS = ("authors", "tags", "security_areas")


@transaction.atomic
def resource_save(
    *, resource: Resource | None, fields: dict[str, Any], by: AbstractBaseUser | None
) -> Resource:
    """Create (resource=None) or update a resource from validated fields.

    Many-to-many values are replaced when present. A canonical-address clash —
    including one that appears between validation and commit — raises
    DuplicateAddress rather than a database error.
    """
    instance = resource or Resource()
    m2m = {name: fields.pop(name) for name in _M2M_FIELDS if name in fields}
    if "url" in fields:
        fields["url"] = address_normalise(fields["url"])  # InvalidAddress propagates
        owner = address_owner(fields["url"], exclude_pk=instance.pk)
        if owner is not None:
            raise DuplicateAddress(owner)
    for name, value in fields.items():
        setattr(instance, name, value)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        owner = address_owner(instance.url, exclude_pk=instance.pk)
        if owner is not None:
            raise DuplicateAddress(owner) from None
        raise
    for name, values in m2m.items():
        getattr(instance, name).set(values)
    logger.info("Resource %s saved by %s", instance.pk, getattr(by, "pk", None))
    catalog_changed_notify()
    return instance


@transaction.atomic
def resource_delete(*, resource: Resource, by: AbstractBaseUser | None) -> None:
    logger.info(
        "Resource %s (%s) deleted by %s", resource.pk, resource.url, getattr(by, "pk", None)
    )
    resource.delete()
    catalog_changed_notify()


def catalog_changed_notify() -> None:
    """Tell listeners (the recommender) that approved content may have changed, once committed."""
    transaction.on_commit(lambda: catalog_changed.send(sender=Resource))


def _set_status(
    resources: Iterable[Resource] | QuerySet[Resource], status: str, by: AbstractBaseUser | None
) -> int:
    ids = [resource.pk for resource in resources]
    now = timezone.now()
    changed = (
        Resource.objects.filter(pk__in=ids)
        .exclude(status=status)
        .update(status=status, reviewed_at=now, reviewed_by=by, updated_at=now)
    )
    logger.info("%s resources marked %s by %s", changed, status, getattr(by, "pk", None))
    if changed:
        catalog_changed_notify()
    return changed


def resource_approve(*, resource: Resource, by: AbstractBaseUser | None) -> Resource:
    """Publish one resource. Approving an approved resource changes nothing."""
    _set_status([resource], Status.APPROVED, by)
    resource.refresh_from_db()
    return resource


def resource_reject(*, resource: Resource, by: AbstractBaseUser | None) -> Resource:
    """Hide one resource from learners; it stays stored so a re-poll cannot bring it back."""
    _set_status([resource], Status.REJECTED, by)
    resource.refresh_from_db()
    return resource


def resources_approve(*, resources: QuerySet[Resource], by: AbstractBaseUser | None) -> int:
    """Bulk approve; returns how many changed status."""
    return _set_status(resources, Status.APPROVED, by)


def resources_reject(*, resources: QuerySet[Resource], by: AbstractBaseUser | None) -> int:
    """Bulk reject; returns how many changed status."""
    return _set_status(resources, Status.REJECTED, by)
