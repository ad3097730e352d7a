"""MCP servers as agent tools: the one package that speaks MCP, through the official `mcp` SDK."""
