from rest_framework.routers import DefaultRouter

from catalog import views

# The API root lists every app's endpoints, so it lives in kubelearn.api, not in this router.
router = DefaultRouter()
router.include_root_view = False
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("tags", views.TagViewSet, basename="tag")
router.register("authors", views.AuthorViewSet, basename="author")
router.register("security-areas", views.SecurityAreaViewSet, basename="securityarea")
router.register("paths", views.LearningPathViewSet, basename="path")
router.register("feeds", views.FeedViewSet, basename="feed")
router.register("author-updates", views.AuthorUpdateViewSet, basename="authorupdate")

urlpatterns = router.urls
