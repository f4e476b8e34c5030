"""Plan jobs: solves that run outside the request handlers and survive restarts.

The job row is committed (status ``queued``) before the client gets its 202. A worker process
(``solvers.executor``: local processes or a Dask cluster) runs ``run_plan_job``: it marks the
row ``running``, writes the solver's progress (elapsed, objective, bound) as it comes, and
finally the plan/1 document (``done``) or the reason it could not (``failed``). The server
only submits and watches. On start-up ``JobManager.recover`` re-queues every job left
``queued`` or ``running`` by a stopped or killed server, or, once it has been started
``job_max_attempts`` times, marks it ``failed`` with that reason.

A job is also the unit of publishing: ``publish_plan`` (``service.weeks``, the week's state)
turns a done week job's visits into the week's published visits, which later week jobs keep
fixed (or, on request, only prefer).

Modules: ``rows`` (the job's row: statuses, a new job, its guarded end), ``reasons`` (why a
job failed, in English and Japanese), ``runner`` (the solve in a worker process), ``pool``
(worker processes the server owns, each running a ``target``) and ``manager``
(``JobManager``: submit, cancel, recover). This package imports none of them: a worker
process unpickles ``pool.worker_main`` before it watches its parent, and what that import
loads (not the database layer, not the solver) delays the watch.
"""

