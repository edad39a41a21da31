from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("notify", "0003_notification_sealed_values"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(
                choices=[
                    ("welcome", "Welcome"),
                    ("email_confirmation", "Email confirmation"),
                    ("already_registered", "Already registered"),
                    ("password_reset", "Password reset"),
                    ("order_confirmed", "Order confirmed"),
                    ("order_rejected", "Order rejected"),
                    ("order_shipped", "Order shipped"),
                    ("order_delivered", "Order delivered"),
                    ("order_cancelled", "Order cancelled"),
                ],
                max_length=32,
            ),
        ),
    ]
