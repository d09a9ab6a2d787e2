"""Reports (``report.md``) built from the results of the jobs; text only, written by the jobs through the writers."""
