"""Users, registration, tokens and the staff login of the commerce backend."""
