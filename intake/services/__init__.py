"""State changes of intake. Import from the submodules; they are grouped by entity."""
