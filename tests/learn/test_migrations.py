"""The data migration that rewrites stored reset addresses as mail is delivered to them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("learn", "0002_pending_email")]
AFTER = [("learn", "0003_reset_addresses_as_delivered")]


@pytest.mark.django_db(transaction=True)
def test_stored_addresses_are_rewritten_as_delivered_and_odd_ones_left_alone():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        OldUser = executor.loader.project_state(BEFORE).apps.get_model("auth", "User")
        stored = {
            "zoe": "zoe@ZOË.org",
            "bob": "Bob@Example.ORG",
            "quoted": '"q"@example.org',
            "plain": "plain@example.org",
            "none": "",
            # Two spellings of one mailbox on two accounts: the second is left as it was.
            "first": "x@xn--zo-ija.org",
            "second": "X@ZOË.org",
        }
        for username, email in stored.items():
            OldUser.objects.create(username=username, email=email)
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(AFTER)
        NewUser = executor.loader.project_state(AFTER).apps.get_model("auth", "User")
        assert dict(NewUser.objects.values_list("username", "email")) == {
            "zoe": "zoe@xn--zo-ija.org",
            "bob": "Bob@example.org",
            "quoted": '"q"@example.org',
            "plain": "plain@example.org",
            "none": "",
            "first": "x@xn--zo-ija.org",
            "second": "X@ZOË.org",
        }
    finally:
        # Back to the latest schema, or every later test would run on this old one.
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
