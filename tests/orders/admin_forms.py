"""Build the POST data of an admin add/change page from the page the admin rendered."""

from django import forms


def _widget_data(prefix_name: str, field: forms.Field, value) -> dict:
    widget = field.widget
    if isinstance(widget, forms.MultiWidget):
        parts = widget.decompress(value) if value is not None else [None] * len(widget.widgets)
        return {
            f"{prefix_name}_{index}": ("" if part is None else str(part))
            for index, part in enumerate(parts)
        }
    if isinstance(widget, forms.NullBooleanSelect):
        return {prefix_name: {True: "true", False: "false"}.get(value, "unknown")}
    if isinstance(widget, forms.CheckboxInput):
        return {prefix_name: "on"} if value else {}
    if isinstance(value, (list, tuple)) and not isinstance(field, forms.JSONField):
        return {prefix_name: [str(item) for item in value]}
    return {prefix_name: "" if value is None else str(value)}


def _form_data(form: forms.BaseForm) -> dict:
    data = {}
    for name, field in form.fields.items():
        data.update(_widget_data(form.add_prefix(name), field, form[name].value()))
    return data


def admin_form_data(response, **changes) -> dict:
    """The values the admin page shows, with the management forms of its inlines; then
    `changes` on top (main-form field names, or full inline names like `lines-0-name`)."""
    context = response.context
    data = _form_data(context["adminform"].form)
    for inline in context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(_form_data(formset.management_form))
        for form in formset.initial_forms:
            data.update(_form_data(form))
    data.update(changes)
    return data


def add_inline_rows(data: dict, prefix: str, rows: list[dict]) -> dict:
    """Append new rows to an inline (`prefix` e.g. "lines")."""
    start = int(data[f"{prefix}-TOTAL_FORMS"])
    for offset, row in enumerate(rows):
        for name, value in row.items():
            data[f"{prefix}-{start + offset}-{name}"] = value
    data[f"{prefix}-TOTAL_FORMS"] = str(start + len(rows))
    return data
