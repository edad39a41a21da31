"""Accounts confirm their email address before they place orders; those made before did not have to:
they count as confirmed since they joined."""

from django.db import migrations, models
from django.db.models import F


def confirm_existing_users(apps, schema_editor):
    apps.get_model("accounts", "User").objects.filter(email_confirmed_at__isnull=True).update(
        email_confirmed_at=F("date_joined")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_revoked_access_token"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_confirmed_at",
            field=models.DateTimeField(
                blank=True, help_text="Empty until the address is confirmed.", null=True, verbose_name="email confirmed"
            ),
        ),
        migrations.RunPython(confirm_existing_users, migrations.RunPython.noop),
    ]
