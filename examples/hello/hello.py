"""The seeds' hello world: ``python hello.py``, ``erlen --app hello run`` or gunicorn."""

from erlen import Flask

app = Flask(__name__)


@app.route("/")
def hello_world():
    return "Hello World!"


if __name__ == "__main__":
    app.run()
