"""The booking app's tables: appointment types, availability, holidays, bookings."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('clinics', '0001_initial'),
        ('leads', '0008_webhook_delivery_sent_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='AppointmentType',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('name_en', models.CharField(max_length=200, verbose_name='name (English)')),
                ('name_tr', models.CharField(max_length=200, verbose_name='name (Turkish)')),
                ('treatment', models.CharField(help_text='The treatment this appointment serves, as the questionnaire names it (e.g. mesotherapy). Its screening decides who may book it.', max_length=40, verbose_name='treatment')),
                ('duration_minutes', models.PositiveSmallIntegerField(verbose_name='duration (minutes)')),
                ('buffer_before_minutes', models.PositiveSmallIntegerField(default=0, verbose_name='buffer before (minutes)')),
                ('buffer_after_minutes', models.PositiveSmallIntegerField(default=0, verbose_name='buffer after (minutes)')),
                ('requires_physician_clearance', models.BooleanField(default=False, help_text='Bookable only once a physician has cleared this treatment for the person, whatever the rules said.', verbose_name='a physician must clear the person first')),
                ('horizon_days', models.PositiveSmallIntegerField(default=28, verbose_name='bookable up to (days ahead)')),
                ('min_notice_hours', models.PositiveSmallIntegerField(default=12, verbose_name='minimum notice (hours)')),
                ('course_sessions', models.PositiveSmallIntegerField(default=1, verbose_name='sessions in a course')),
                ('course_spacing_days', models.PositiveSmallIntegerField(default=0, verbose_name='days between sessions')),
                ('is_active', models.BooleanField(default=True, verbose_name='active')),
                ('practitioners', models.ManyToManyField(blank=True, related_name='appointment_types', to='clinics.practitioner', help_text='Who performs this appointment.', verbose_name='practitioners')),
            ],
            options={
                'verbose_name': 'appointment type',
                'verbose_name_plural': 'appointment types',
                'ordering': ['treatment', 'name_en'],
            },
        ),
        migrations.CreateModel(
            name='AvailabilityException',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('starts', models.TimeField(blank=True, null=True, verbose_name='from')),
                ('ends', models.TimeField(blank=True, null=True, verbose_name='until')),
                ('note', models.CharField(blank=True, max_length=200, verbose_name='note')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='availability_exceptions', to='clinics.location')),
                ('practitioner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='availability_exceptions', to='clinics.practitioner')),
            ],
            options={
                'verbose_name': 'availability exception',
                'verbose_name_plural': 'availability exceptions',
                'ordering': ['day', 'starts'],
            },
        ),
        migrations.CreateModel(
            name='Booking',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('starts_at', models.DateTimeField()),
                ('ends_at', models.DateTimeField()),
                ('blocked_from', models.DateTimeField()),
                ('blocked_until', models.DateTimeField()),
                ('status', models.CharField(choices=[('confirmed', 'Confirmed'), ('cancelled', 'Cancelled')], default='confirmed', max_length=10)),
                ('session_number', models.PositiveSmallIntegerField(default=1)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('cancelled_at', models.DateTimeField(blank=True, null=True)),
                ('appointment_type', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='booking.appointmenttype')),
                ('booked_by', models.ForeignKey(blank=True, help_text='Staff who booked for the patient; empty when they booked.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('course_first', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='booking.booking')),
                ('lead', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='leads.lead')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='clinics.location')),
                ('practitioner', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='bookings', to='clinics.practitioner')),
            ],
            options={
                'verbose_name': 'booking',
                'verbose_name_plural': 'bookings',
                'ordering': ['starts_at', 'id'],
            },
        ),
        migrations.CreateModel(
            name='Holiday',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField(verbose_name='day')),
                ('name', models.CharField(max_length=200, verbose_name='name')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='holidays', to='clinics.location')),
            ],
            options={
                'verbose_name': 'holiday',
                'verbose_name_plural': 'holidays',
                'ordering': ['day'],
            },
        ),
        migrations.CreateModel(
            name='WeeklyAvailability',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('weekday', models.PositiveSmallIntegerField(choices=[(0, 'Monday'), (1, 'Tuesday'), (2, 'Wednesday'), (3, 'Thursday'), (4, 'Friday'), (5, 'Saturday'), (6, 'Sunday')], verbose_name='weekday')),
                ('starts', models.TimeField(verbose_name='from')),
                ('ends', models.TimeField(verbose_name='until')),
                ('location', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='weekly_availability', to='clinics.location')),
                ('practitioner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='weekly_availability', to='clinics.practitioner')),
            ],
            options={
                'verbose_name': 'weekly availability',
                'verbose_name_plural': 'weekly availability',
                'ordering': ['practitioner', 'location', 'weekday', 'starts'],
            },
        ),
        migrations.AddConstraint(
            model_name='appointmenttype',
            constraint=models.CheckConstraint(condition=models.Q(('duration_minutes__gte', 5)), name='appointment_type_duration_positive'),
        ),
        migrations.AddConstraint(
            model_name='appointmenttype',
            constraint=models.CheckConstraint(condition=models.Q(('course_sessions__gte', 1)), name='appointment_type_course_sessions'),
        ),
        migrations.AddIndex(
            model_name='availabilityexception',
            index=models.Index(fields=['practitioner', 'location', 'day'], name='booking_ava_practit_51884f_idx'),
        ),
        migrations.AddConstraint(
            model_name='availabilityexception',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('ends__isnull', True), ('starts__isnull', True)), ('ends__gt', models.F('starts')), _connector='OR'), name='availability_exception_times'),
        ),
        migrations.AddIndex(
            model_name='booking',
            index=models.Index(condition=models.Q(('status', 'cancelled'), _negated=True), fields=['practitioner', 'blocked_from'], name='booking_practitioner_busy_idx'),
        ),
        migrations.AddIndex(
            model_name='booking',
            index=models.Index(fields=['lead', 'starts_at'], name='booking_lead_idx'),
        ),
        migrations.AddConstraint(
            model_name='booking',
            constraint=models.CheckConstraint(condition=models.Q(('ends_at__gt', models.F('starts_at')), ('blocked_from__lte', models.F('starts_at')), ('blocked_until__gte', models.F('ends_at'))), name='booking_times_in_order'),
        ),
        migrations.AddConstraint(
            model_name='holiday',
            constraint=models.UniqueConstraint(fields=('location', 'day'), name='holiday_once_per_day'),
        ),
        migrations.AddConstraint(
            model_name='weeklyavailability',
            constraint=models.CheckConstraint(condition=models.Q(('ends__gt', models.F('starts'))), name='weekly_availability_ends_after_start'),
        ),
    ]
