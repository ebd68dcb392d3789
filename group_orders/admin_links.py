"""Links to the job page in the admin: only for users who may open it.

No role grants `group_orders.view_job` (superusers see jobs): for everyone else a link to a
job is a link to a 403. A page showing a job declares two fields, one with the link and its
plain-text twin, and swaps them by who is looking.
"""

from group_orders.models import Job


def job_fieldsets(model_admin, request, fieldsets, twins: dict[str, str]) -> list:
    """`fieldsets` as they are for a user who may open the job page; otherwise with each
    linking field replaced by its plain-text twin (`twins`: link field → text field)."""
    if model_admin.admin_site.get_model_admin(Job).has_view_permission(request):
        return list(fieldsets)
    return [
        (name, {**options, "fields": [twins.get(field, field) for field in options["fields"]]})
        for name, options in fieldsets
    ]
