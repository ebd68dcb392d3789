"""An admin site whose Order admin includes the stage inline, action and filter.

It copies every registered admin, so it also covers orders/admin.py once that exists:
the Order admin there is extended, not replaced.
"""

from django.contrib import admin
from django.urls import path

from orders.models import Order
from stages.admin import OrderStageTimelineInline, StuckInStageFilter, advance_stage

site = admin.AdminSite(name="admin")
for model, model_admin in admin.site._registry.items():
    if model is not Order:
        site.register(model, type(model_admin))

BaseOrderAdmin = (
    type(admin.site._registry[Order]) if Order in admin.site._registry else admin.ModelAdmin
)


class OrderWithStagesAdmin(BaseOrderAdmin):
    inlines = [
        *[inline for inline in BaseOrderAdmin.inlines if inline is not OrderStageTimelineInline],
        OrderStageTimelineInline,
    ]
    list_filter = [
        *[f for f in BaseOrderAdmin.list_filter if f is not StuckInStageFilter],
        StuckInStageFilter,
    ]

    def get_actions(self, request, *args, **kwargs):
        actions = super().get_actions(request, *args, **kwargs)
        actions.setdefault("advance_stage", self.get_action(advance_stage))
        return actions


site.register(Order, OrderWithStagesAdmin)

urlpatterns = [
    path("admin/", site.urls),
]
