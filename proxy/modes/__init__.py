"""What a mode does with a request, once dispatch has matched it.

Legacy and native mode are the sides themselves (the gateway's `legacy` and `native`); a mode
that combines them lives here: `shadow` (the primary answers, the candidate is compared), with
`storage`, the parity store it writes to. `call` is what every mode is given. This room may use
table/, sides/ and the leaves, and the `shadow` package; never operator/ or cli/.
"""

from proxy.modes.call import Call, ModeHandler, Sides

__all__ = ["Call", "ModeHandler", "Sides"]
