from django.urls import path

from kubelearn import converters  # noqa: F401  (registers the <id:…> converter)
from recommender import views

urlpatterns = [
    path("me/progress/", views.ProgressListView.as_view(), name="me-progress"),
    path(
        "me/progress/<id:resource_id>/",
        views.ProgressDetailView.as_view(),
        name="me-progress-detail",
    ),
    path("me/notes/", views.NoteListView.as_view(), name="me-notes"),
    path("me/notes/<id:resource_id>/", views.NoteDetailView.as_view(), name="me-notes-detail"),
    path("me/profile/", views.ProfileView.as_view(), name="me-profile"),
    path("me/next/", views.NextView.as_view(), name="me-next"),
    path("me/queue/", views.QueueView.as_view(), name="me-queue"),
    path("resources/<id:resource_id>/similar/", views.SimilarView.as_view(), name="similar"),
]
