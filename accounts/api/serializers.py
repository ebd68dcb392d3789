from rest_framework import serializers

from accounts.selectors import SESSION_VIEWS
from config.api.strict_types import StrictJsonTypesMixin

# blank means "not given" (forms send empty fields); an unknown session view is refused
APPLICATION_FIELD = {"required": False, "allow_blank": True, "max_length": 50}
SESSION_VIEW_FIELD = {"choices": SESSION_VIEWS, "required": False, "allow_blank": True}


class RegisterInputSerializer(StrictJsonTypesMixin, serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    remember_me = serializers.BooleanField(required=False, default=False)
    application = serializers.CharField(**APPLICATION_FIELD)
    session_view = serializers.ChoiceField(**SESSION_VIEW_FIELD)


class LoginInputSerializer(StrictJsonTypesMixin, serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(trim_whitespace=False, max_length=128)
    remember_me = serializers.BooleanField(required=False, default=False)
    application = serializers.CharField(**APPLICATION_FIELD)
    session_view = serializers.ChoiceField(**SESSION_VIEW_FIELD)


class ClientRegisterInputSerializer(StrictJsonTypesMixin, serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    telephone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    billing_postal_code = serializers.CharField(required=False, allow_blank=True, max_length=20)
    application = serializers.CharField(**APPLICATION_FIELD)
    session_view = serializers.ChoiceField(**SESSION_VIEW_FIELD)
    token = serializers.CharField(required=False)


class ClientOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    telephone = serializers.CharField()
    billing_postal_code = serializers.CharField()


class SessionUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    is_client = serializers.BooleanField()


class SessionOutputSerializer(serializers.Serializer):
    """The `session` object; `token` appears only in the response that creates the session."""

    id = serializers.IntegerField()
    token = serializers.CharField(required=False)
    token_prefix = serializers.CharField()
    remember_me = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    application = serializers.CharField(required=False)
    user = SessionUserSerializer(required=False)
    roles = serializers.ListField(child=serializers.CharField(), required=False)
    abilities = serializers.ListField(child=serializers.CharField(), required=False)


class SessionEnvelopeSerializer(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()
    data = SessionOutputSerializer()
    session = SessionOutputSerializer()


class SessionLogoutEnvelopeSerializer(serializers.Serializer):
    """Log out: the session is gone, so `data` and `session` are null."""

    status = serializers.CharField()
    message = serializers.CharField()
    data = serializers.JSONField(allow_null=True)
    session = SessionOutputSerializer(allow_null=True)


class ClientEnvelopeSerializer(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()
    data = ClientOutputSerializer()
    session = SessionOutputSerializer(allow_null=True)
