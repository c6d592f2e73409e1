"""People: accounts, roles, sign-in tokens and sign-in limits."""
