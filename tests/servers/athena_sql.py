#!/usr/bin/env python3
"""athena_sql.py DATABASE SQL: one statement through botocore, the AWS SDK the
AWS CLI is built on (its own request format and SigV4 signing), against
$ATHENA_ENDPOINT: StartQueryExecution, GetQueryExecution until the statement
ends, then every page of GetQueryResults, printed as CSV rows without the
header row. Exit 1 with the reason on stderr when it FAILED.

The scenarios used to run three or more `aws athena ...` commands per
statement; each one starts the CLI (about a second of CPU), which made the
Athena scenarios the longest part of make test. One process per statement,
the same client library and wire protocol."""
import csv
import os
import sys
import time

import botocore.session
from botocore.config import Config


def main():
    if len(sys.argv) != 3:
        print("usage: athena_sql.py DATABASE SQL", file=sys.stderr)
        return 2
    db, sql = sys.argv[1], sys.argv[2]
    client = botocore.session.get_session().create_client(
        "athena",
        region_name="us-east-1",
        endpoint_url=os.environ["ATHENA_ENDPOINT"],
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "S3RVER"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "S3RVER"),
        config=Config(retries={"max_attempts": 10, "mode": "standard"}),
    )
    qid = client.start_query_execution(
        QueryString=sql, QueryExecutionContext={"Database": db}
    )["QueryExecutionId"]
    for _ in range(300):
        status = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
        state = status["State"]
        if state == "SUCCEEDED":
            break
        if state in ("FAILED", "CANCELLED"):
            print(status.get("StateChangeReason", state), file=sys.stderr)
            return 1
        time.sleep(0.05)
    else:
        print("query %s still %s after 15 s" % (qid, state), file=sys.stderr)
        return 1
    out = csv.writer(sys.stdout, lineterminator="\n")
    kw = {"QueryExecutionId": qid}
    header = True
    while True:
        page = client.get_query_results(**kw)
        rows = page["ResultSet"]["Rows"]
        if header:
            rows, header = rows[1:], False
        for row in rows:
            out.writerow([d.get("VarCharValue", "") for d in row["Data"]])
        if not page.get("NextToken"):
            return 0
        kw["NextToken"] = page["NextToken"]


if __name__ == "__main__":
    sys.exit(main())
