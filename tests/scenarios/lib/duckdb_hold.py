#!/usr/bin/env python3
"""duckdb_hold.py LIBDUCKDB DB READY [SECONDS]: open DB with libduckdb (through
ctypes, as any DuckDB client would), which takes DuckDB's file lock; touch
READY; hold it SECONDS (default 60) or until killed. Exit 3 if the open fails."""
import ctypes
import sys
import time

lib = ctypes.CDLL(sys.argv[1])
db = ctypes.c_void_p()
if lib.duckdb_open(sys.argv[2].encode(), ctypes.byref(db)) != 0:
    sys.stderr.write("duckdb_hold: cannot open %s\n" % sys.argv[2])
    sys.exit(3)
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 60)
lib.duckdb_close(ctypes.byref(db))
