"""The staff API for leads: queue, detail, actions, timeline, export."""
