import json
import os

import psycopg2


def handler(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps(
            {
                "service": os.environ.get("POWERTOOLS_SERVICE_NAME"),
                "psycopg2": psycopg2.__version__,
            }
        ),
    }
