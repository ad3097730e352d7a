"""The Agent Client Protocol front end: skillway as an agent for every editor that speaks ACP."""
