"""The command layer: one module per command, each composing the stages and returning a typed
report whose ``counts()`` have one shape (``commands.report``).

``cli.py`` parses options, calls one of these, and prints through ``console``; the commands
call the stages (``extract``, ``warehouse`` models, ``load``, ``reconcile``) and talk neither
HTTP nor SQL themselves. ``run`` composes the same stage functions as ``extract``,
``transform`` and ``push`` (``commands.stages``), so the rules that decide a run's status
exist once.
"""
