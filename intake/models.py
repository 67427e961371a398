"""Questionnaires, submissions and screening results (see the intake issue)."""
