"""Code actions: which ones a selection or diagnostic offers (no model call), and running one."""
