"""/ship: the change, the reviewer fan-out skillway runs itself, the merged GO / NO-GO decision, and
the pre-push check against the ship ledger. The rules themselves live once, in the bundled plugin's
`hooks/ship_rules.py`, which the hook scripts that judge every /ship turn use too."""
