"""Signals the catalog sends so other apps can react without the catalog importing them."""

from django.dispatch import Signal

# Sent after commit whenever resources may have been added, edited, approved, rejected or
# deleted. The recommender listens to schedule a (debounced) refit.
catalog_changed = Signal()
