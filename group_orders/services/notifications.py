"""E-mail to the uploader when an import is complete.

Sending happens after the import committed: a failure is recorded on the group order
(`email_error`) and logged, and never undoes the import. Callers that answer an API request
(a processor marking a group order complete) turn the failure into `mandrill-email-failed`.

One e-mail per completion: `email_sent_at` says it went out, and a completion that is to be
announced again clears it (`GroupOrder.email_owed`: a re-run, a processor's PATCH to
complete). An import job retried after its worker died once the e-mail had gone — between
the completion's commit and the job's — completes again without e-mailing twice.
"""

import logging

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from group_orders.models import GroupOrder
from group_orders.selectors import REPORT_FIELDS, report_link, signed_link_max_age

logger = logging.getLogger("orderdesk.group_orders")


def group_order_completed_notify(*, group_order_id: int) -> bool:
    """E-mail the uploader the counts and signed links; True when sent (or nobody to tell).

    Records `email_sent_at` or `email_error` on the group order; does nothing when
    `email_sent_at` says this completion was announced already.
    """
    group_order = GroupOrder.objects.select_related("uploader").get(pk=group_order_id)
    uploader = group_order.uploader
    if group_order.email_sent_at is not None or uploader is None or not uploader.email:
        return True
    links = {name: report_link(group_order, name, absolute=True) or "-" for name in REPORT_FIELDS}
    body = render_to_string(
        "group_orders/email/import_complete.txt",
        {
            "group_order": group_order,
            "name": uploader.first_name or uploader.email,
            "links": links,
            "link_days": signed_link_max_age() // 86400,
        },
    )
    subject = (
        f"Order upload {group_order.original_filename[:80]}: "
        f"{group_order.successful_orders} orders created, "
        f"{group_order.rejected_orders} rows rejected"
    )
    try:
        EmailMessage(subject=subject, body=body, to=[uploader.email]).send()
    except Exception as exc:  # any transport failure: keep the import, record why
        logger.exception("group order %s: completion e-mail failed", group_order.public_id)
        GroupOrder.objects.filter(pk=group_order.pk).update(
            email_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        return False
    GroupOrder.objects.filter(pk=group_order.pk).update(
        email_sent_at=timezone.now(), email_error=""
    )
    return True
