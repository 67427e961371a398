"""The audit rows are "health data accesses" in the admin, not "accesss"."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0006_resume_email_outbox'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='healthdataaccess',
            options={'ordering': ['-accessed_at'], 'verbose_name': 'health data access', 'verbose_name_plural': 'health data accesses'},
        ),
    ]
