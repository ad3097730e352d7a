"""The code API: client, streaming, errors, rate limits, usage ledger and quotas; prompts/ holds templates."""
