"""The app database (sqlmodel): users, workflow versions, automations, runs, helpdesk, audit."""
