"""Who a call is for, on a server several people share (OAuth identities, or per-user keys): the user every row
it writes belongs to, whose rows it may read, whose budget it counts against. Set per request by the MCP front
(``server/front.py``) in a context variable, read here by the service and by the tools; the one-person default
(stdio, loopback, a shared token) reads and writes as nobody in particular, as before.

Isolation rule: a caller on a shared server reads only their own jobs, and a job id they do not own (someone
else's, or one never seen) gets the same answer, made locally, without asking the API: asking would make the
server an oracle for other users' ids (and, on a shared key, read other users' jobs).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

from legnext_mcp.core.errors import NotFoundError
from legnext_mcp.http.request_key import REQUEST_KEY
from legnext_mcp.ledger import NOBODY

#: The header that carries a caller's own API key (LEGNEXT_USER_KEYS=header).
KEY_HEADER = "x-legnext-api-key"


@dataclass(frozen=True)
class Caller:
    #: The ledger's user: ``iss#sub`` of an OAuth token, ``key:<hmac>`` of a per-user key, or NOBODY.
    user: str = NOBODY
    #: Several people share this server: reads are filtered to ``user``, unknown ids are never looked up.
    scoped: bool = False
    #: The caller's requests go with their own key (so the account's running jobs are theirs).
    own_key: bool = False

    @property
    def reads(self) -> str | None:
        """The user filter of a ledger read: the caller's own rows on a shared server, every row otherwise."""
        return self.user if self.scoped else None

    def __repr__(self) -> str:
        return f"Caller(user={self.user!r}, scoped={self.scoped})"


ONE_PERSON = Caller()
CALLER: ContextVar[Caller] = ContextVar("legnext_caller", default=ONE_PERSON)


def caller() -> Caller:
    return CALLER.get()


@contextmanager
def calling(who: Caller, key: str | None) -> Iterator[None]:
    """Serve one request as ``who``, its upstream requests going with ``key`` (None: the server's key)."""
    token = CALLER.set(who)
    key_token = REQUEST_KEY.set(key)
    try:
        yield
    finally:
        REQUEST_KEY.reset(key_token)
        CALLER.reset(token)


def user_of_key(secret: str, key: str) -> str:
    """A per-user key's user id: a keyed hash (the same key is the same user on every replica and after restarts;
    the id reveals nothing of the key without the secret)."""
    return "key:" + hmac.new(secret.encode(), key.encode(), hashlib.sha256).hexdigest()[:40]


def unknown_job(job_id: str) -> NotFoundError:
    """The one answer for an id the caller does not own, whether someone else's or never seen."""
    return NotFoundError(f"Job {job_id[:80]} is not among your jobs on this server. Check the id; list_jobs shows "
                         "yours (jobs made by other users, or outside this server, cannot be read here).",
                         job_id=job_id)


def user_folder(base: Path, user: str) -> Path:
    """Where ``save_images`` writes for a user of a shared server: a folder of their own under the output
    folder, named by a hash of their id (an id can hold characters a path cannot)."""
    return base / "users" / hashlib.sha256(user.encode()).hexdigest()[:24]
