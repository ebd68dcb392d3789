"""Users and sessions (Plano contract): register, log in, current session, log out, client."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts import services
from accounts.api.serializers import (
    ClientEnvelopeSerializer,
    ClientOutputSerializer,
    ClientRegisterInputSerializer,
    LoginInputSerializer,
    RegisterInputSerializer,
    SessionEnvelopeSerializer,
    SessionLogoutEnvelopeSerializer,
)
from accounts.selectors import session_payload
from config.api.envelope import envelope_response
from config.api.errors import InvalidParam
from config.api.params import body_params
from config.api.permissions import AuthenticatedSession, session_view_param

SESSION_VIEW_PARAM = OpenApiParameter(
    "session_view", str, enum=["default", "minimal", "full"], required=False
)


class PlanoView(APIView):
    """Plano-contract endpoints accept `token` in the body or query string too."""

    accepts_token_param = True


class UserRegisterView(PlanoView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="users_register",
        request=RegisterInputSerializer,
        responses={201: SessionEnvelopeSerializer},
    )
    def post(self, request):
        params = RegisterInputSerializer(data=body_params(request))
        params.is_valid(raise_exception=True)
        data = params.validated_data
        issued = services.user_register(
            email=data["email"],
            password=data["password"],
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
            remember_me=data["remember_me"],
            application_slug=data.get("application"),
        )
        session = session_payload(issued.token, view=data.get("session_view"), raw=issued.raw)
        return envelope_response(
            session,
            message="Registered and logged in. Keep the token: it is shown only once.",
            session=session,
            http_status=status.HTTP_201_CREATED,
        )


class SessionCreateView(PlanoView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="sessions_create",
        request=LoginInputSerializer,
        responses={201: SessionEnvelopeSerializer},
    )
    def post(self, request):
        params = LoginInputSerializer(data=body_params(request))
        params.is_valid(raise_exception=True)
        data = params.validated_data
        issued = services.session_login(
            email=data["email"],
            password=data["password"],
            remember_me=data["remember_me"],
            application_slug=data.get("application"),
        )
        session = session_payload(issued.token, view=data.get("session_view"), raw=issued.raw)
        return envelope_response(
            session,
            message="Logged in. Keep the token: it is shown only once.",
            session=session,
            http_status=status.HTTP_201_CREATED,
        )


class CurrentSessionView(PlanoView):
    permission_classes = [AuthenticatedSession]

    @extend_schema(
        operation_id="sessions_current",
        parameters=[SESSION_VIEW_PARAM],
        responses={200: SessionEnvelopeSerializer},
    )
    def get(self, request):
        session = session_payload(request.auth, view=session_view_param(request))
        if session is None:
            raise InvalidParam("token", "This is an application token, not a session.")
        return envelope_response(session, message="The current session.", session=session)

    @extend_schema(operation_id="sessions_logout", responses={200: SessionLogoutEnvelopeSerializer})
    def delete(self, request):
        services.token_revoke(token=request.auth)
        return envelope_response(None, message="Logged out. The token no longer works.")


class ClientRegisterView(PlanoView):
    permission_classes = [AuthenticatedSession]

    @extend_schema(
        operation_id="users_client_register",
        request=ClientRegisterInputSerializer,
        responses={201: ClientEnvelopeSerializer},
    )
    def post(self, request):
        params = ClientRegisterInputSerializer(data=body_params(request, required=False))
        params.is_valid(raise_exception=True)
        data = params.validated_data
        application = (
            services.application_get(slug=data["application"]) if data.get("application") else None
        )
        client = services.client_register(
            user=request.user,
            name=data.get("name", ""),
            telephone=data.get("telephone", ""),
            billing_postal_code=data.get("billing_postal_code", ""),
            application=application,
        )
        return envelope_response(
            ClientOutputSerializer(client).data,
            message="You are registered as a client.",
            session=session_payload(request.auth, view=data.get("session_view")),
            http_status=status.HTTP_201_CREATED,
        )
