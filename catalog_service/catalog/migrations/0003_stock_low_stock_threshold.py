from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_reservation_customer"),
    ]

    operations = [
        migrations.AddField(
            model_name="stock",
            name="low_stock_threshold",
            field=models.PositiveIntegerField(
                blank=True,
                help_text="Warn staff when this many units or fewer are available (empty: the shop's default).",
                null=True,
            ),
        ),
    ]
