"""Runflow's API, served by us at ``/v1``: a tenant app written for Runflow switches by
changing its base URL and key. Everything goes through the services ``/api/v1`` uses
(validation, caps, idempotency, moderation, billing); only the shapes are Runflow's.

- ``create``: Runflow's create body, to our run input.
- ``shapes``: our run, as Runflow's run object, with the status mapping (README).
- ``listing``: Runflow's ``q`` filter and ``pq`` paging.
- ``errors``: our errors, in Runflow's envelope.
- ``views``/``urls``: the surface; ``callbacks``/``callback_secrets``: the callbacks.
"""

#: The one model of Runflow's catalogue served here; any other is ``MODEL_NOT_FOUND``.
MODEL_ID = "bytedance/seedance/2.0/fast/text-to-video"
