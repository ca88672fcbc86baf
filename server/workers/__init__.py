"""Workers on an existing queue: Celery over Redis (or RabbitMQ).

With ``SCORECARD_BROKER_URL`` set, the web processes only send messages (``queue.py``), and
``scorecard worker`` processes (``worker.py``, tasks in ``tasks.py``) do the work: scoring,
executing server runs, processing webhook deliveries and publishing results. Without it the
embedded engine does the same work in the web process.

The database stays the truth of what is pending. A message only says "there is work": a task
claims its work through leases in the database before doing it, so a duplicated message finds
nothing left to claim, and a lost one (a broker restart), a killed worker or a lapsed lease is
found by every worker's sweep (``sweep.py``), which sends the messages again.
"""
