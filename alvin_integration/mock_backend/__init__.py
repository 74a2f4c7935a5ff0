"""A local stand-in for the Alvin API: stores what it receives in SQLite and shows it."""
