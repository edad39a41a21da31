from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0002_deadletter'),
    ]

    operations = [
        migrations.AddField(
            model_name='deadletter',
            name='producer',
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AddField(
            model_name='deadletter',
            name='signature',
            field=models.CharField(blank=True, max_length=128),
        ),
        migrations.AlterField(
            model_name='deadletter',
            name='reason',
            field=models.CharField(choices=[('unknown_type', 'Unknown type'), ('newer_version', 'Newer version'), ('invalid_payload', 'Invalid payload'), ('unsigned', 'Unsigned'), ('bad_signature', 'Bad signature'), ('not_a_producer', 'Not a producer'), ('retries_exhausted', 'Retries exhausted')], db_index=True, max_length=32),
        ),
    ]
