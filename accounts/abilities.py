"""Token abilities: what a token may be used for, independent of the holder's role."""

ORDERS_READ = "orders:read"
ORDERS_WRITE = "orders:write"
STAGES_READ = "stages:read"
STAGES_WRITE = "stages:write"
GROUP_ORDERS_READ = "group_orders:read"
GROUP_ORDERS_WRITE = "group_orders:write"

ALL_ABILITIES = (
    ORDERS_READ,
    ORDERS_WRITE,
    STAGES_READ,
    STAGES_WRITE,
    GROUP_ORDERS_READ,
    GROUP_ORDERS_WRITE,
)
