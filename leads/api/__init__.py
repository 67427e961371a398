"""The staff API for leads, one module per job: the queue (queue), the CSV export
(export), one lead and its timeline (lead), its health answers (health), what staff
do to a lead (actions), a physician's decisions (decisions); shared lookups and
shapes in common."""
