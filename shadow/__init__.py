"""Shadow mode: observe both sides of a request, compare, learn noise, redact, store and report.

The package knows nothing of the gateway or the handlers: the gateway hands it the primary's
observation and the other side as a callable, and its own settings. Vocabulary, after Scientist:
the *primary* answers the client, the *candidate* is compared with it; an *A/A* comparison sets
the primary against a second call of itself, to learn noise (after Diffy).

Modules, in the order data flows through them:

    observation  Observation (one side's answer), lift → Lifted (status, headers, parsed body)
    fieldpath    field paths of routing.yaml: parse, match, format, generalise
    compare      the comparison pipeline → Comparison (outcome, differences)
    classify     deepdiff's report → Differences (path, field, kind)
    noise        A/A rates, the real-difference rule, `ignore:` proposals as YAML
    redact       credentials masked before storage
    settings     ShadowSettings, deterministic sampling, the tree-diff budget
    experiment   Experiment.submit: the runner the gateway calls, never raising, never waiting
    records      Result and the rows of the store; fold (results → increments); evidence epochs
    threads      DaemonWorker: calls that may hang, on a thread that never holds the exit
    writer       StoreWriter: batched, off the event loop, opens its store in the background,
                 drops counted; Totals across writers
    store        Store (SQLAlchemy Core: SQLite, MariaDB/MySQL, PostgreSQL), under Timeouts;
                 resets of a route's evidence
    report       rows → Report; render_table, render_markdown, to_json
    samples      the newest sample pair of each differing field, values side by side
    gate         rows → Verdict: ready to flip, or blocked and why
    recording    what of a request a route's `record:` may keep: never a credential
    runs         replay runs: id, state, what each left out and why
    runstore     runs and recorded requests in the store; RunSink, a run's evidence apart

Wiring, in the gateway's lifespan:

    writer = StoreWriter(opener=lambda: open_store(url, timeouts=Timeouts()))
    writer.start()                                    # serves at once; opens in the background
    experiment = Experiment(writer, ShadowSettings.from_config(table.shadow))
    ...per shadow request, after the primary answered the client:
    experiment.submit(route.id, RequestInfo(method, path, query, request_id), primary_observation,
                      call_candidate, call_primary_again,
                      settings=ShadowSettings.from_config(route.shadow))
    ...on shutdown:
    await experiment.close(); stats = await writer.close(deadline); writer.store.close()
"""
