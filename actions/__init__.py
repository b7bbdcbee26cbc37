"""rasa-sdk custom actions. Each reply action sets the triage contract slots."""
