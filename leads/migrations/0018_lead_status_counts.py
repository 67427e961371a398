"""An index for the queue's counts per status (staff.selectors.status_counts):
a location's unmerged leads by status, counted from the index alone."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("leads", "0017_lead_queue_plans")]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                condition=models.Q(("merged_into__isnull", True)),
                fields=["location", "status"],
                name="lead_location_status_idx",
            ),
        ),
    ]
