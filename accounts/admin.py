from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.template.response import TemplateResponse

from accounts import abilities, services
from accounts.models import (
    ApiToken,
    Application,
    ApplicationRole,
    Client,
    Employee,
    Liaison,
    User,
)


class ClientInline(admin.StackedInline):
    model = Client
    extra = 0
    max_num = 1
    fields = ["name", "email", "telephone", "billing_postal_code"]


class EmployeeInline(admin.StackedInline):
    model = Employee
    extra = 0
    max_num = 1


class LiaisonInline(admin.StackedInline):
    model = Liaison
    extra = 0
    max_num = 1
    autocomplete_fields = ["clients"]


class ApplicationRoleInline(admin.TabularInline):
    model = ApplicationRole
    fk_name = "user"
    extra = 0
    fields = ["application", "role", "granted_at"]
    readonly_fields = ["granted_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Name", {"fields": ["first_name", "last_name"]}),
        (
            "Admin access",
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "first_name", "last_name", "password1", "password2"],
            },
        ),
    ]
    inlines = [ClientInline, EmployeeInline, LiaisonInline, ApplicationRoleInline]


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "telephone", "user", "created_at"]
    search_fields = ["name", "email", "telephone"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["user", "job_title", "created_at"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(Liaison)
class LiaisonAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user", "clients"]
    list_select_related = ["user"]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "is_active"]
    search_fields = ["slug", "name"]


@admin.register(ApplicationRole)
class ApplicationRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "application", "granted_at", "granted_by"]
    list_filter = ["application", "role"]
    search_fields = ["user__email"]
    autocomplete_fields = ["user"]
    list_select_related = ["user", "role", "application", "granted_by"]
    readonly_fields = ["granted_by"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.granted_by = request.user
        super().save_model(request, obj, form, change)


class ApiTokenCreateForm(forms.ModelForm):
    abilities = forms.MultipleChoiceField(
        choices=[(a, a) for a in abilities.ALL_ABILITIES],
        widget=forms.CheckboxSelectMultiple,
        required=True,
    )

    class Meta:
        model = ApiToken
        fields = ["user", "application", "name", "abilities", "expires_at"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Creating a token shows the raw secret once; afterwards only its prefix is displayed."""

    list_display = [
        "prefix",
        "kind",
        "user",
        "application",
        "name",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    list_filter = ["kind", "application", "remember_me"]
    search_fields = ["prefix", "name", "user__email"]
    list_select_related = ["user", "application"]
    autocomplete_fields = ["user"]
    actions = ["revoke"]
    readonly_fields = [
        "kind",
        "user",
        "application",
        "prefix",
        "abilities",
        "remember_me",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    fields = readonly_fields[:5] + ["name", "expires_at"] + readonly_fields[5:]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
            kwargs["fields"] = ApiTokenCreateForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        return self.fields if obj is not None else ApiTokenCreateForm.Meta.fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        issued = services.token_issue(
            user=data["user"],
            application=data["application"],
            token_abilities=data["abilities"],
            name=data["name"],
            expires_at=data["expires_at"],
        )
        obj.pk = issued.token.pk
        obj.prefix = issued.token.prefix
        obj._raw_token = issued.raw  # lives only for this response

    def response_add(self, request, obj, post_url_continue=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "token": obj,
            "raw_token": obj._raw_token,
            "title": "Token created",
        }
        return TemplateResponse(request, "admin/accounts/apitoken/created.html", context)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = 0
        for token in queryset:
            services.token_revoke(token=token)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)
