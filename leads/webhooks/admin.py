"""Admin screens for webhook endpoints and their deliveries."""
