"""Framework-free domain of Scorecard runs from GitHub: tables, database, lifecycle, scoring."""
