#!/usr/bin/python3
# A monitoring script written for HAProxy's CSV statistics (`echo "show stat" | socat ...` or
# `curl .../stats;csv`), as admins keep them: it reads the columns by the header's names and prints,
# for each server and backend, its current sessions, status and last check status.
import csv
import sys

text = sys.stdin.read()
lines = text.splitlines()
if not lines or not lines[0].startswith("# "):
    sys.exit("not HAProxy CSV: no '# pxname,...' header")
rows = csv.DictReader([lines[0][2:]] + [l for l in lines[1:] if l])
for row in rows:
    if row["svname"] == "FRONTEND":
        continue
    print("%s/%s scur=%s status=%s check_status=%s" % (row["pxname"], row["svname"], row["scur"], row["status"],
                                                       row["check_status"]))
