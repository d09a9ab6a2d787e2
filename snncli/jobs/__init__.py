"""Jobs: one module per command, each ``job(config, callbacks) -> result``.

A job validates nothing (its config arrives validated), prints nothing (progress goes to the
callbacks the CLI passes in) and writes only through :mod:`snncli.engine.writers` and the
figure functions of :mod:`snncli.plots`. Reports (``report.md``) are built from the results by
the modules in :mod:`snncli.jobs.reports`.

Nothing here is imported by ``snncli.cli`` at start-up: the command imports its job when it runs,
so ``snn --help`` does not pay for torch.
"""
