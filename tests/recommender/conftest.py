import pytest

from recommender import store


@pytest.fixture(autouse=True)
def fresh_model_store():
    """Each test has its own database, so no process may keep a model from another test."""
    store.forget_loaded_model()
    yield
    store.forget_loaded_model()
