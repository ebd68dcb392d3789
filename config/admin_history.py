"""History pages in the admin: who changed what and when, to read, never to revert.

Every admin with django-simple-history's History pages extends `ReadOnlyHistoryAdmin`
(tests/config/test_admin_history.py checks that none is left out).
"""

from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets, unquote
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin
from simple_history.utils import get_history_model_for_model


class ReadOnlyHistoryAdmin(SimpleHistoryAdmin):
    """simple-history's History list and snapshot pages, read-only for everyone.

    Its snapshot page saves the snapshot back on any POST, checking only view permission,
    through the admin's plain save: that skips the services (their rules, their history row
    with the actor) through which alone state changes here. So no Revert is offered, a POST
    is refused (405) for everyone, superusers included, and every field is shown read-only.
    An id that names nothing (`.../history/abc/`) is a 404; an object this user cannot see in
    the admin list is a 404 too (a deleted one's history stays readable, as simple-history
    intends).
    """

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_view(self, request, object_id, extra_context=None):
        self._history_subject_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        self._history_subject_or_404(request, object_id)
        history_id = get_history_model_for_model(self.model)._meta.get_field("history_id")
        try:
            history_id.to_python(version_id)
        except ValidationError:
            raise Http404 from None
        return super().history_form_view(request, object_id, version_id, extra_context)

    def render_history_view(self, request, template, context, **kwargs):
        adminform = context.get("adminform")
        if adminform is not None:  # the snapshot page: show it as a view-only change page does
            fieldsets = list(adminform.fieldsets)
            context = {
                **context,
                "adminform": helpers.AdminForm(
                    adminform.form,
                    fieldsets,
                    {},
                    readonly_fields=flatten_fieldsets(fieldsets),
                    model_admin=self,
                ),
                "has_change_permission": False,
            }
        return super().render_history_view(request, template, context, **kwargs)

    def _history_subject_or_404(self, request, object_id) -> None:
        try:
            pk = self.opts.pk.to_python(unquote(object_id))
        except ValidationError:
            raise Http404 from None
        visible = self.get_queryset(request).filter(pk=pk).exists()
        if not visible and self.model._default_manager.filter(pk=pk).exists():
            raise Http404
