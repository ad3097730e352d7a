"""/ship: the change, the reviewer fan-out skillway runs itself, the merged GO / NO-GO decision, and
the pre-push check against the ship ledger. The rules themselves live once, in `rules` (standard
library only), which the bundled hook scripts that judge every /ship turn (`hooks/ship-*.py`)
import too: this package's `__init__` imports nothing, so that they can."""
