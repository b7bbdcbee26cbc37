"""Where conversations live: Rasa's SQL tracker store (SQLite or PostgreSQL), the Redis lock store."""
