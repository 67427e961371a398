"""The clinic models move here from leads, keeping their tables: state only, no rows
copied. Their content types (and so permissions and admin history) move with them."""

import clinics.models
import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models


MOVED = ["location", "practitioner", "staffmember"]


def content_types_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="leads", model__in=MOVED).update(
        app_label="clinics"
    )


def content_types_move_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="clinics", model__in=MOVED).update(
        app_label="leads"
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('leads', '0006_event_screening_reevaluated'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Location',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('slug', models.SlugField(unique=True)),
                        ('name', models.CharField(max_length=200)),
                        ('address', models.TextField(blank=True)),
                        ('phone', models.CharField(blank=True, max_length=32)),
                        ('time_zone', models.CharField(default=clinics.models.clinic_time_zone, max_length=64)),
                        ('opening_hours', models.JSONField(default=clinics.models.default_opening_hours, help_text='Working hours per weekday, e.g. {"mon": [["09:00", "18:00"]]}; a day left out is closed. First-contact deadlines count only these hours.')),
                        ('is_active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'leads_location',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Practitioner',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('display_name', models.CharField(max_length=200)),
                        ('kind', models.CharField(choices=[('physician', 'Physician'), ('aesthetician', 'Aesthetic nurse or therapist')], max_length=20)),
                        ('languages', models.JSONField(default=list, help_text='Language codes, e.g. ["en", "tr"]')),
                        ('is_active', models.BooleanField(default=True)),
                        ('locations', models.ManyToManyField(related_name='practitioners', to='clinics.location')),
                        ('user', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'leads_practitioner',
                        'ordering': ['display_name'],
                    },
                ),
                migrations.CreateModel(
                    name='StaffMember',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('coordinator', 'Coordinator'), ('physician', 'Physician'), ('clinic_admin', 'Clinic admin')], max_length=20)),
                        ('languages', models.JSONField(default=list)),
                        ('is_on_duty', models.BooleanField(default=True)),
                        ('is_lead_coordinator', models.BooleanField(default=False)),
                        ('locations', models.ManyToManyField(blank=True, related_name='staff_members', to='clinics.location')),
                        ('user', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='staff_member', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'leads_staffmember',
                        'indexes': [models.Index(fields=['role', 'is_on_duty'], name='leads_staff_role_501fd1_idx')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_move, content_types_move_back),
    ]
