"""Users, roles, clients (tenants), sign-in and passwords."""
