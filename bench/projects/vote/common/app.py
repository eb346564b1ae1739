"""A two-option poll: each visitor's vote goes onto a Redis list for a worker
to count. The voting front end of bench/review.sh's Python project."""

import json
import os
import random
import socket

from flask import Flask, g, make_response, render_template, request
from redis import Redis

option_a = os.getenv("OPTION_A", "Tabs")
option_b = os.getenv("OPTION_B", "Spaces")
hostname = socket.gethostname()

app = Flask(__name__)


def get_redis():
    if not hasattr(g, "redis"):
        g.redis = Redis(host=os.getenv("REDIS_HOST", "redis"), db=0, socket_timeout=5)
    return g.redis


@app.route("/", methods=["POST", "GET"])
def poll():
    voter_id = request.cookies.get("voter_id") or hex(random.getrandbits(64))[2:]
    vote = None
    if request.method == "POST":
        vote = request.form["vote"]
        data = json.dumps({"voter_id": voter_id, "vote": vote})
        get_redis().rpush("votes", data)
    response = make_response(
        render_template(
            "index.html", option_a=option_a, option_b=option_b, hostname=hostname, vote=vote
        )
    )
    response.set_cookie("voter_id", voter_id)
    return response


@app.route("/healthz")
def healthz():
    return {"ok": True, "host": hostname}


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=80, debug=True, threaded=True)
