"""Reconciliation: why 360Learning shows something else than Go1.

The read-back (:mod:`reconcile.readback`) lands what 360Learning holds in ``raw.l360_*``; the
comparison is SQL (``models/reconcile/``), explained by the seed
``models/seeds/reconcile_categories.csv``; :mod:`reconcile.compare` builds a
:class:`reconcile.report.Report` from it, which is written as text, CSV/JSON
(:mod:`reconcile.files`) or one HTML page (:mod:`reconcile.html`, from
``reconcile/templates/``); ``commands.reconcile`` runs the command.

A stage: it imports ``load`` (the 360Learning client), ``warehouse`` and ``settings``, and only
the command layer, ``cli.py``, tests and scripts import it. Nothing is re-exported here, so
rendering a report does not import the API client.
"""
