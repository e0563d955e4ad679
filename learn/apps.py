from django.apps import AppConfig


class LearnConfig(AppConfig):
    """The learner's web pages: a human face on the catalog and recommender APIs."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "learn"
    verbose_name = "Learner pages"
