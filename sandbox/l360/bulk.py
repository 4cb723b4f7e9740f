"""Bulk operations: accepted at once, run later by one worker thread.

Lifecycle (OpenAPI, ``GET /bulk/operations/{id}``): ``pending`` → ``queued`` → ``running`` →
``completed`` or ``error``, each of the first three lasting ``operation_delay_s``. The items are
applied, in input order and atomically, when ``running`` ends; operations finish in the order
they were submitted (equal delays), so two operations never interleave their items. Results
(one per applied item) can be read once the operation is ``completed`` or ``error``; before
that ``/results`` answers ``bulkOperationNotRun``.

A planned failure (:meth:`L360Faults.operation_error_next`) applies the first ``after_items``
items, reports those alone, and ends the operation in ``error`` with an ``errorMessage``.
``progress.index`` is the index of the last processed item (0 when none was).

A success ``resourceId`` is the id of what the item touched (a course upsert's courseId), or
under :attr:`L360Faults.resource_ids` ``"opaque"``, for every kind of operation, another stable
ObjectId (:meth:`L360Store.opaque_id`).
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from sandbox.l360.knobs import L360Faults, OperationErrorPlan
from sandbox.l360.processors import PROCESSORS, ItemError
from sandbox.l360.store import L360Store

UNFINISHED = ("pending", "queued", "running")


class ConcurrencyLimitReached(Exception):
    """Already ``max_running_bulk`` operations unfinished."""


class BulkRunner:
    """Accepts operations (:meth:`submit`) and moves them through their lifecycle."""

    def __init__(self, store: L360Store, faults: L360Faults, now: Callable[[], str]) -> None:
        self.store = store
        self.faults = faults
        self.now = now
        self._cond = threading.Condition(store.lock)
        self._due: dict[str, float] = {}
        self._plans: dict[str, OperationErrorPlan] = {}
        self._stalled: set[str] = set()  # stay running until release_stalled()
        self._submitted: list[str] = []
        self._order: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._stopping = False

    # submitting -------------------------------------------------------------------------
    def submit(self, kind: str, items: list[dict[str, Any]],
               integration_id: str | None = None) -> dict[str, Any]:
        """A new ``pending`` operation; :class:`ConcurrencyLimitReached` when at the limit."""
        if kind not in PROCESSORS:
            raise ValueError(f"unknown bulk operation type {kind!r}")
        with self._cond:
            running = sum(1 for op in self.store.operations.values()
                          if op["status"] in UNFINISHED)
            if running >= self.faults.max_running_bulk:
                raise ConcurrencyLimitReached
            op_id = self.store.ids.new("operation")
            operation: dict[str, Any] = {
                "_id": op_id, "type": kind, "status": "pending", "createdAt": self.now(),
                "input": items, "results": [], "integrationId": integration_id,
            }
            self.store.operations[op_id] = operation
            self._order[op_id] = len(self._submitted)
            self._submitted.append(op_id)
            plan = self.faults.take_operation_error()
            if plan is not None:
                self._plans[op_id] = plan
            if self.faults.take_stall():
                self._stalled.add(op_id)
            self._due[op_id] = time.monotonic() + self.faults.operation_delay_s
            self._start()
            self._cond.notify_all()
            return operation

    def release_stalled(self) -> None:
        """Let the stalled operations finish."""
        with self._cond:
            for op_id in self._stalled:
                self._due[op_id] = time.monotonic()
            self._stalled.clear()
            self._cond.notify_all()

    def submitted(self) -> list[str]:
        """Every operation id ever accepted, oldest first."""
        with self._cond:
            return list(self._submitted)

    # the worker -------------------------------------------------------------------------
    def _start(self) -> None:
        self._stopping = False  # a worker asked to stop but still waiting for the lock goes on
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="l360-bulk-worker",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def _work(self) -> None:
        with self._cond:
            while not self._stopping:
                if not self._due:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                ready = sorted((due, self._order[op_id], op_id)
                               for op_id, due in self._due.items() if due <= now)
                if not ready:
                    self._cond.wait(timeout=min(self._due.values()) - now)
                    continue
                for _, _, op_id in ready:
                    self._advance(op_id)
                self._cond.notify_all()

    def _advance(self, op_id: str) -> None:
        operation = self.store.operations[op_id]
        status, now = operation["status"], self.now()
        delay = self.faults.operation_delay_s
        if status == "pending":
            operation.update(status="queued", queuedAt=now)
            self._due[op_id] = time.monotonic() + delay
        elif status == "queued":
            operation.update(status="running", startedAt=now,
                             progress={"index": 0, "updatedAt": now})
            if op_id in self._stalled:
                del self._due[op_id]  # until release_stalled()
            else:
                self._due[op_id] = time.monotonic() + delay
        else:
            del self._due[op_id]
            self._finish(operation, self._plans.pop(op_id, None))

    def _finish(self, operation: dict[str, Any], plan: OperationErrorPlan | None) -> None:
        items: list[dict[str, Any]] = operation["input"]
        process = PROCESSORS[operation["type"]]
        now = self.now()
        count = len(items) if plan is None else min(plan.after_items, len(items))
        results: list[dict[str, Any]] = []
        for item in items[:count]:
            message = self.faults.take_item_error(item)
            if message is None:
                try:
                    resource = process(self.store, operation, item, now)
                except ItemError as error:
                    message = error.message
                else:
                    if self.faults.resource_ids == "opaque":
                        resource = self.store.opaque_id(resource)
                    results.append({"input": item, "status": "success", "resourceId": resource})
                    continue
            results.append({"input": item, "status": "error", "errorMessage": message})
        operation.update(results=results, endedAt=now,
                         progress={"index": max(count - 1, 0), "updatedAt": now})
        if plan is None:
            operation["status"] = "completed"
        else:
            operation.update(status="error", errorMessage=plan.message)

    # waiting ----------------------------------------------------------------------------
    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until no operation is unfinished; False when ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._due:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(timeout=left)
            return True

    def snapshot(self) -> dict[str, dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self.store.operations)
