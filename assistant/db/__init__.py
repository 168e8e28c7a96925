"""The app database (sqlmodel): users, workflow versions, the action ledger and the audit log."""
