"""Intake's reads, one module per job: questionnaires, submissions (and drafts),
screening, next steps. Import from the module that does the job. Staff reads of
health data are not here: they go through intake.services.health.
"""
