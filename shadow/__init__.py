"""Shadow mode: observe both sides of a request, compare, learn noise, redact, store and report.

The package knows nothing of the gateway or the handlers: the gateway hands it the primary's
observation and the other side as a callable (see `shadow.experiment`), and its own settings.
Vocabulary, after Scientist: the *primary* answers the client, the *candidate* is compared with it;
an *A/A* comparison sets the primary against a second call of itself, to learn noise.
"""
