"""Stage 7, scenarios: files that set up accounts and play a timeline, run and reported."""
