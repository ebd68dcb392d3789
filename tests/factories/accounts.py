import factory
from django.contrib.auth.models import Group

from accounts.models import Application, ApplicationRole, Client, Employee, Liaison, User

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda o: o.user.full_name if o.user else "Walk-in client")
    email = factory.LazyAttribute(lambda o: o.user.email if o.user else "")
    telephone = "+1 (604) 376-2674"
    billing_postal_code = "94612"


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    user = factory.SubFactory(UserFactory)
    job_title = "Operator"


class LiaisonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Liaison

    user = factory.SubFactory(UserFactory)


class ApplicationRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationRole

    user = factory.SubFactory(UserFactory)
    application = factory.LazyFunction(lambda: Application.objects.get(slug="planoauth"))
    role = factory.LazyFunction(lambda: Group.objects.get(name="order manager"))
