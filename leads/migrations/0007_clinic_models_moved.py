"""Location, Practitioner and StaffMember now belong to clinics (same tables): the
foreign keys follow them in the state; the database is untouched."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clinics', '0001_initial'),
        ('intake', '0005_location_in_clinics'),
        ('leads', '0006_event_screening_reevaluated'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='assignmentrule',
                    name='location',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clinics.location'),
                ),
                migrations.RemoveField(
                    model_name='staffmember',
                    name='locations',
                ),
                migrations.RemoveField(
                    model_name='practitioner',
                    name='locations',
                ),
                migrations.AlterField(
                    model_name='lead',
                    name='location',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='leads', to='clinics.location'),
                ),
                migrations.RemoveField(
                    model_name='practitioner',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='staffmember',
                    name='user',
                ),
                migrations.AlterField(
                    model_name='assignmentrule',
                    name='last_assigned',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='clinics.staffmember'),
                ),
                migrations.AlterField(
                    model_name='assignmentrule',
                    name='coordinators',
                    field=models.ManyToManyField(blank=True, limit_choices_to={'role': 'coordinator'}, related_name='assignment_rules', to='clinics.staffmember'),
                ),
                migrations.DeleteModel(
                    name='Location',
                ),
                migrations.DeleteModel(
                    name='Practitioner',
                ),
                migrations.DeleteModel(
                    name='StaffMember',
                ),
            ],
            database_operations=[],
        ),
    ]
