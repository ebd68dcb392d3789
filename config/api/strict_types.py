"""JSON bodies carry JSON types: no silent coercion of `0` into `"0"` or `"12"` into `12`.

DRF's fields accept a number for a text field and a numeric text for an integer field; the
schema says otherwise, and a client that sends the wrong type has a bug worth hearing about
(the stage API has been strict from the start). A form post (urlencoded or multipart) carries
only text and keeps DRF's parsing.
"""

from collections.abc import Mapping

from django.http import QueryDict
from rest_framework import serializers

from config.api.params import FormParams

# the database's integer columns: a larger value is refused by the serializer, not the database
INT16_MAX = 2**15 - 1
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

TEXT = "Must be a string."
INTEGER = "Must be an integer."
NUMBER = "Must be a number (or a decimal string)."
BOOLEAN = "Must be a boolean: true or false."


def _type_error(field: serializers.Field, value) -> str | None:
    if value is None or isinstance(field, serializers.ChoiceField):
        return None  # null: the field's allow_null decides; choices check themselves
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else BOOLEAN
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else INTEGER
    if isinstance(field, (serializers.DecimalField, serializers.FloatField)):
        ok = isinstance(value, (int, float, str)) and not isinstance(value, bool)
        return None if ok else NUMBER
    if isinstance(field, serializers.CharField):
        return None if isinstance(value, str) else TEXT
    return None


def _length_error(field: serializers.Field, value) -> str | None:
    """DRF measures a text after trimming its surrounding whitespace; the schema (maxLength)
    measures what was sent. Sent text longer than the limit is refused, as documented."""
    limit = getattr(field, "max_length", None)
    if isinstance(field, serializers.CharField) and limit and isinstance(value, str):
        if len(value) > limit:
            return f"Ensure this field has no more than {limit} characters."
    return None


class StrictJsonTypesMixin:
    """Put before `serializers.Serializer` in an input serializer's bases."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            typed = not isinstance(data, (QueryDict, FormParams))
            errors = {}
            for name, field in self.fields.items():
                if field.read_only or name not in data:
                    continue
                value = data[name]
                message = (typed and _type_error(field, value)) or _length_error(field, value)
                if message:
                    errors[name] = [message]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
