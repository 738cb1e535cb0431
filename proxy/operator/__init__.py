"""What an operator sees and does: the admin surface under /_strangler/.

`admin` (health, routes, reload, the access rules) and `signin` (the browser's cookie); `dashboard`,
`pages` and `htmlparts` (server-rendered HTML, no script); `metrics` (Prometheus); `insight` wires
metrics, flip history and dashboard to one gateway; `evidence` gathers what a decision needs
(report, gate, flips); `history` stores the flips; `parity` reads the parity store for people;
`runs` and `runpages` show replay runs. This room reads table/, sides/ and modes/; it never imports
cli/.
"""
