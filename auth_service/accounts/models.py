"""The user of the whole system: one account, identified by email, for customers and staff."""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        user = self.model(email=self.normalize_email(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra_fields: Any) -> "User":
        # Whoever runs createsuperuser vouches for the address.
        extra_fields.update(is_staff=True, is_superuser=True, email_confirmed_at=timezone.now())
        return self.create_user(email, password, **extra_fields)


class Role(models.Model):
    """A staff role of ``edge.roles``: its rows follow that vocabulary after every migrate
    (``accounts.apps``), as Django's permissions follow the models. What it gives is each
    service's to say, in its own code."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Staff may log in to every admin site and use staff APIs."
    )
    is_active = models.BooleanField(
        default=True, help_text="Inactive users cannot log in and their tokens are refused."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # When the owner of the address followed the link emailed at registration (or a password
    # reset link); empty until then, and such an account places no orders.
    email_confirmed_at = models.DateTimeField(
        "email confirmed", null=True, blank=True, help_text="Empty until the address is confirmed."
    )
    # Staff who tick it get every staff alert (stock running out, dead letters...) by email too;
    # notify learns who from ``user.staff_alerts_changed``.
    email_staff_alerts = models.BooleanField(
        "email me staff alerts",
        default=False,
        help_text="Staff alerts (stock running out, rejected orders, failed emails, dead letters) "
        "go to this address too, while the account is active staff.",
    )
    roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="users",
        help_text="Staff roles, carried in the user's tokens: each gives permissions in the admin "
        "sites of the services that say so.",
    )
    # Every token carries the generation it was issued at; bumping it revokes them all at once
    # (password reset, deactivation, a change of staff or superuser status).
    token_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["-date_joined"]

    def __str__(self) -> str:
        return self.email

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)


class RevokedAccessToken(models.Model):
    """An access token revoked before it expired (a logout).

    Redis holds the same denylist for every service's check; this copy lets auth answer that
    check exactly while Redis is out of reach. Rows go once their token has expired.
    """

    jti = models.CharField(max_length=255, unique=True)
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.jti
