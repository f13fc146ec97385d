"""Small shared pieces: input validation, seeding, statistics, atomic file writing."""
