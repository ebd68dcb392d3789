from django.urls import path

from accounts.api import views

urlpatterns = [
    path("v1/users/register", views.UserRegisterView.as_view(), name="users-register"),
    path(
        "v1/users/client_register",
        views.ClientRegisterView.as_view(),
        name="users-client-register",
    ),
    path("v1/sessions", views.SessionCreateView.as_view(), name="sessions"),
    path("v1/sessions/current", views.CurrentSessionView.as_view(), name="sessions-current"),
]
