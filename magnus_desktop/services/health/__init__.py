"""Health of the app: connections, latency, loop lag, memory, database; backup and restore.

Modules: ``latency`` (per-call durations, recorded by ``Executors.run``), ``lag`` (GUI loop lag),
``logtail`` (the log viewer's reads), ``backup`` (zip backup, validation, restore), ``service``
(``HealthService`` on the ``AppContext``). Import from the modules (this package imports nothing,
so ``services.executors`` can use ``latency`` without an import cycle).
"""
