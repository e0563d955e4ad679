from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import (
    Author,
    Kind,
    LearningPath,
    PathStep,
    Resource,
    SecurityArea,
    Stage,
    Status,
    Tag,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery staple")


class CuratorFactory(UserFactory):
    @factory.post_generation
    def curators_group(self, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name="curators")
            self.groups.add(group)


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tag-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"author-{n}")
    name = factory.LazyAttribute(lambda a: a.slug.replace("-", " ").title())


class SecurityAreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SecurityArea
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"area-{n}")
    name = factory.LazyAttribute(lambda a: a.slug.replace("-", " ").title())


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Kubernetes resource {n}")
    url = factory.Sequence(lambda n: f"https://example.org/posts/{n}")
    kind = Kind.ARTICLE
    stage = Stage.GETTING_STARTED
    summary = "A resource about Kubernetes."
    status = Status.APPROVED
    estimated_minutes = 10

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        if create and extracted:
            self.authors.set(extracted)

    @factory.post_generation
    def security_areas(self, create, extracted, **kwargs):
        if create and extracted:
            self.security_areas.set(extracted)


class LearningPathFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LearningPath

    slug = factory.Sequence(lambda n: f"path-{n}")
    title = factory.Sequence(lambda n: f"Path {n}")


class PathStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PathStep

    path = factory.SubFactory(LearningPathFactory)
    resource = factory.SubFactory(ResourceFactory)
    position = factory.Sequence(lambda n: n + 1)


def full_width(text: str) -> str:
    """ASCII letters in their full-width forms (U+FF21…), which NFKC reads as the letters."""
    return "".join(chr(ord(letter) + 0xFEE0) if letter.isascii() else letter for letter in text)


def admin_resource_form(**fields) -> dict:
    """The admin's resource form as a POST: an article, Getting started, Beginner, curated,
    with no path steps, unless `fields` say otherwise."""
    return {
        "kind": "article",
        "stage": "getting-started",
        "difficulty": 1,
        "origin": "curated",
        "path_steps-TOTAL_FORMS": 0,
        "path_steps-INITIAL_FORMS": 0,
        **fields,
    }
