"""Rasa input channels of the assistant's own (website widget, Messenger), by module path."""
