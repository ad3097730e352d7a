"""The conversation loop: tools, permissions, sub-agents, and the JSONL transcript of every turn."""
