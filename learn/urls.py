from django.conf import settings
from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from kubelearn import converters  # noqa: F401  (registers the <id:…> converter)
from learn import feeds, passwords, views
from learn.forms import PasswordChangeTypingForm, SignInForm

app_name = "learn"

urlpatterns = [
    path("", views.home, name="home"),
    path("manifest.webmanifest", views.web_manifest, name="web-manifest"),
    path("path/", views.path, name="path"),
    path("path/<slug:stage>/done/", views.path_stage_done, name="path-stage-done"),
    path("resources/<id:resource_id>/", views.resource, name="resource"),
    path("resources/<id:resource_id>/note/", views.note_save, name="note-save"),
    path("guides/<slug:slug>/", views.guide, name="guide"),
    path("browse/", views.browse, name="browse"),
    path("history/", views.history, name="history"),
    # The menu's Saved is History's saved list; its own address, typed, was a 404 (a
    # walk-through).
    path("saved/", views.saved, name="saved"),
    path("history/progress.csv", views.history_download, name="history-download"),
    path("notes/", views.notes, name="notes"),
    path("focus/", views.focus, name="focus"),
    path("focus/level/", views.level_set, name="level-set"),
    path("progress/undo/", views.progress_undo, name="progress-undo"),
    path("progress/<id:resource_id>/", views.progress, name="progress"),
    path("progress/<id:resource_id>/forget/", views.progress_forget, name="progress-forget"),
    path("account/", views.account, name="account"),
    path("account/email/", views.account_email, name="account-email"),
    path("account/email/pending/", views.account_email_pending, name="account-email-pending"),
    path("account/email/confirm/<str:token>/", views.email_confirm, name="email-confirm"),
    path("account/delete/", views.account_delete, name="account-delete"),
    path("feed/<str:key>/", feeds.queue_feed, name="queue-feed"),
    path("signup/", views.signup, name="signup"),
    path(
        "signin/",
        passwords.SignInView.as_view(
            template_name="learn/signin.html",
            redirect_authenticated_user=True,
            authentication_form=SignInForm,
        ),
        name="signin",
    ),
    path("signout/", views.SignOutView.as_view(), name="signout"),
    path(
        "account/password/",
        passwords.PasswordChangeView.as_view(
            template_name="learn/password_change.html",
            success_url=reverse_lazy("learn:password-changed"),
            form_class=PasswordChangeTypingForm,
        ),
        name="password-change",
    ),
    path("password-reset/", passwords.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="learn/password_reset_sent.html",
            extra_context={"timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600},
        ),
        name="password-reset-sent",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="learn/password_reset_complete.html"
        ),
        name="password-reset-done",
    ),
    path(
        "account/password/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="learn/password_changed.html"),
        name="password-changed",
    ),
]
