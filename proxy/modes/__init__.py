"""What a mode does with a request, once dispatch has matched it.

Legacy mode is the side itself (the gateway's `legacy`); a mode that combines the sides lives
here: `shadow` (the primary answers, the candidate is compared), with `storage`, the parity
store it writes to; `controls`: canary mode (`cohort`) and native mode's `fallback` and guards
(`guard` judges, `guards` counts and shares, `rollbacks` keeps them in the store); `recording`
keeps a sample of a route's requests (`record:`) in the store, and `replay` is the gateway's side
of `strangler replay`. `call` is what every mode is given. This room may use table/, sides/ and
the leaves, and the `shadow` package; never operator/ or cli/.
"""

from proxy.modes.call import Call, ModeHandler, Sides

__all__ = ["Call", "ModeHandler", "Sides"]
