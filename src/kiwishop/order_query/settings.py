from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from kiwishop.contracts.topics import PAYMENT
from kiwishop.platform.settings import ServiceSettings

DAY_S = 86_400.0


class OrderQuerySettings(ServiceSettings):
    """order-query keeps everything in Redis: no SQL database, no outbox (G3)."""

    model_config = SettingsConfigDict(env_prefix="KIWI_ORDER_QUERY_", extra="ignore")

    port: int = 8087
    node_id: int = 7
    db_name: str = ""

    # order (8080): the source of truth behind every miss.
    order_url: str = "http://127.0.0.1:8080"
    order_connect_timeout_s: float = 1.0
    order_read_timeout_s: float = 3.0

    consumer_group: str = "order-query"
    payment_topic: str = PAYMENT
    # Every Redis key of this service starts with it (tests and side-by-side rebuilds use their own).
    key_prefix: str = "order-query"
    # Newest paymentEventNos kept per member in the index (G29: the original kept 10).
    member_index_size: int = Field(default=1000, ge=1)
    # Read models and indexes of members nobody pays for or reads expire; a miss refills them from order.
    model_ttl_s: float = Field(default=30 * DAY_S, gt=0)
    applied_ttl_s: float = Field(default=7 * DAY_S, gt=0)
    # How long a page proven complete by order may be answered from Redis alone. The index cannot know
    # of a PAYMENT_CONFIRM that never reached it (lost by the broker, parked in a DLT), so its claim to
    # hold a member's whole history must end: after this, the member's next page read costs one O6 call
    # (through the cache), which proves the floor again and shows what the consumer missed. Shorter heals
    # sooner and asks order more often (per member read in a period: one O6 call for the newest
    # ``fill_page_size`` orders, one more per older stretch read); longer is cheaper for order and leaves
    # a lost order hidden longer.
    completeness_ttl_s: float = Field(default=300.0, gt=0)
    # One O6 call fetches this many events (the largest page a client may ask for), so one miss fills
    # the next pages too.
    fill_page_size: int = Field(default=100, ge=1, le=100)

    # Cache around the calls to order (G31): fresh for the logical TTL, then served stale while one
    # caller refreshes; gone after the physical TTL. Callers that find neither value nor lock wait for
    # the refresher up to cache_wait_s.
    cache_logical_ttl_s: float = Field(default=2.0, gt=0)
    cache_physical_ttl_s: float = Field(default=30.0, gt=0)
    cache_lock_ttl_s: float = Field(default=5.0, gt=0)
    cache_wait_s: float = Field(default=4.0, gt=0)

    # After start-up, move every object alive then out of the garbage collector's sight (gc.freeze): a
    # full collection then scans only what requests allocate. Measured here: 60–100 ms gen-2 pauses
    # under load before, ~3 ms after. Process-wide, so tests that build many apps in one process turn it off.
    freeze_gc_after_startup: bool = True
