"""Names and helpers shared by the sync scenario's tests (imported from the test files' directory)."""
PRIMARY = "pgs-sync-pg1"
CANDIDATES = ["pgs-sync-pg2", "pgs-sync-pg3"]
CASCADED = "pgs-sync-pg4"


def psql(host, sql):
    return host.check_output("su postgres -c %s", "psql -XAtq -v ON_ERROR_STOP=1 -c \"%s\"" % sql)
