"""Hearth's Python runtime: a Lambda Runtime API client that runs inside an
execution environment, with the standard library only (Python 3.9+).

Multi-concurrency the Lambda Managed Instances way: this process forks
AWS_LAMBDA_MAX_CONCURRENCY worker processes. Each imports the handler once and
loops `/next -> handler -> /response`, one request at a time, over its own
keep-alive connection. The parent never imports user code: it supervises the
workers, reports a worker that dies during init as an init failure, and restarts
a worker that dies after init (a crash loop ends the EE).

Handler `module.function`, with dots or slashes for packages
(`pkg.mod.handler`, `src/app.handler`). Handler exceptions are reported with
errorType = the exception's class name; init failures as Runtime.ImportModuleError,
Runtime.UserCodeSyntaxError, Runtime.HandlerNotFound or Runtime.MalformedHandlerName.
print() and the logging module write JSON lines carrying the requestId.

The Runtime API is the EE's lifeline: when it cannot be reached (the agent is
gone), the workers exit and so does the parent.
"""

import datetime
import decimal
import errno
import http.client
import importlib
import json
import logging
import os
import select
import signal
import socket
import sys
import time
import traceback
import types

API = os.environ.get("AWS_LAMBDA_RUNTIME_API", "")
BASE = "/2018-06-01/runtime"
HANDLER = os.environ.get("_HANDLER", "")
TASK_ROOT = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())

EXIT_INIT_REPORTED = 3
"""A worker failed init and reported it itself."""
EXIT_API_GONE = 70
"""The Runtime API is unreachable: the agent is gone, so is the EE."""

_request_id = None


class InitError(Exception):
    """An init failure with the errorType Lambda reports for it."""

    def __init__(self, error_type, message, stack=None):
        super().__init__(message)
        self.error_type = error_type
        self.stack = stack or []


# ------------------------------------------------------------------ logging

def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _emit(stream, record):
    stream.write(json.dumps(record, default=str) + "\n")
    stream.flush()


class JsonLineWriter:
    """Stands in for sys.stdout: every printed line becomes a JSON log line with the requestId."""

    def __init__(self, raw):
        self._raw = raw
        self._partial = ""

    def write(self, text):
        self._partial += text
        while "\n" in self._partial:
            line, self._partial = self._partial.split("\n", 1)
            self._line(line)
        return len(text)

    def _line(self, line):
        record = {"timestamp": _now(), "level": "INFO", "message": line}
        if _request_id:
            record["requestId"] = _request_id
        _emit(self._raw, record)

    def flush(self):
        if self._partial:
            line, self._partial = self._partial, ""
            self._line(line)
        self._raw.flush()

    def __getattr__(self, name):
        # fileno, buffer, encoding, isatty, ...: whatever else code asks of stdout.
        return getattr(self._raw, name)


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "timestamp": _now(),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if _request_id:
            entry["requestId"] = _request_id
        if record.exc_info:
            kind, value, tb = record.exc_info
            entry["errorType"] = kind.__name__ if kind else "Exception"
            entry["errorMessage"] = str(value)
            entry["stackTrace"] = traceback.format_tb(tb)
        return json.dumps(entry, default=str)


def setup_logging():
    raw = sys.stdout
    sys.stdout = JsonLineWriter(raw)
    handler = logging.StreamHandler(raw)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(os.environ.get("AWS_LAMBDA_LOG_LEVEL", "INFO").upper())


def log(level, message, **fields):
    record = {"timestamp": _now(), "level": level, "message": message}
    if _request_id:
        record["requestId"] = _request_id
    record.update(fields)
    _emit(sys.__stdout__, record)


# ------------------------------------------------------------------ Runtime API client

class ApiGone(Exception):
    """The Runtime API could not be reached."""


class Client:
    """One keep-alive connection to the Runtime API (a worker runs one request at a time)."""

    def __init__(self):
        host, _, port = API.rpartition(":")
        self._host = host
        self._port = int(port)
        self._conn = None

    def _connection(self, timeout):
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            self._conn.connect()
            # Request-response ping-pong on a warm socket: Nagle's algorithm would only add delay.
            self._conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn.sock.settimeout(timeout)
        return self._conn

    def request(self, method, path, body=None, headers=None, timeout=None):
        # One retry on a fresh connection: a kept-alive socket may have been closed by the server.
        for attempt in (1, 2):
            try:
                conn = self._connection(timeout)
                conn.request(method, BASE + path, body=body, headers=headers or {})
                response = conn.getresponse()
                return response.status, response.headers, response.read()
            except (OSError, http.client.HTTPException) as error:
                if self._conn is not None:
                    self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise ApiGone(str(error)) from error
        raise ApiGone("unreachable")

    def next(self):
        return self.request("GET", "/invocation/next")

    def respond(self, request_id, body, timing=None):
        headers = {"Content-Type": "application/json"}
        headers.update(timing_header(timing))
        return self.request("POST", "/invocation/%s/response" % request_id, body, headers, 30)

    def fail(self, request_id, error, timing=None):
        return self._post_error("/invocation/%s/error" % request_id, error, timing_header(timing))

    def init_error(self, error):
        return self._post_error("/init/error", error)

    def _post_error(self, path, error, extra_headers=None):
        body = json.dumps(error).encode("utf-8")
        headers = {"Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": error["errorType"]}
        headers.update(extra_headers or {})
        return self.request("POST", path, body, headers, 10)


def now_micros():
    return time.time_ns() // 1000


def timing_header(timing):
    """`Hearth-Handler-Timing` for an answer: when the handler ran (epoch us), so the agent
    can draw the handler's span; the runtime itself has no tracing (ADR 0010)."""
    if not timing:
        return {}
    return {"Hearth-Handler-Timing": "start=%d;end=%d" % timing}


def error_body(error):
    return {
        "errorMessage": str(error),
        "errorType": type(error).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(error.__traceback__)),
    }


# ------------------------------------------------------------------ handler

def load_handler(spec):
    """Imports the handler's module and returns the function, or raises InitError typed as Lambda types it."""
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as error:
        raise InitError("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, error))
    module_name = module_name.replace("/", ".")
    if not module_name or not function_name or module_name.startswith(".") or ".." in module_name:
        raise InitError("Runtime.MalformedHandlerName", "Bad handler '%s'" % spec)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InitError("Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, error))
    except SyntaxError as error:
        raise InitError("Runtime.UserCodeSyntaxError", "Syntax error in module '%s': %s" % (module_name, error))
    except BaseException as error:  # noqa: B902 - SystemExit at import is an init failure too
        raise InitError(type(error).__name__, str(error), traceback.format_list(traceback.extract_tb(error.__traceback__)))
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise InitError("Runtime.HandlerNotFound", "Handler '%s' missing on module '%s'" % (function_name, module_name))
    return handler


class LambdaContext:
    """The context object Lambda passes a Python handler."""

    def __init__(self, request_id, headers):
        self.aws_request_id = request_id
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = parse_client_context(headers.get("Lambda-Runtime-Client-Context"))
        self._deadline_ms = int(headers.get("Lambda-Runtime-Deadline-Ms") or 0)

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


def parse_client_context(header):
    if not header:
        return None
    import base64

    for decode in (lambda text: text, lambda text: base64.b64decode(text).decode("utf-8")):
        try:
            data = json.loads(decode(header))
        except Exception:  # noqa: BLE001 - try the next encoding
            continue
        if isinstance(data, dict):
            return types.SimpleNamespace(client=data.get("client"), custom=data.get("custom"), env=data.get("env"))
    return None


def _json_default(value):
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError("Object of type %s is not JSON serializable" % type(value).__name__)


# ------------------------------------------------------------------ worker process

def worker(ready_fd):
    global _request_id
    setup_logging()
    client = Client()
    try:
        handler = load_handler(HANDLER)
    except InitError as error:
        log("ERROR", "Init failed", errorType=error.error_type, errorMessage=str(error))
        try:
            client.init_error({"errorMessage": str(error), "errorType": error.error_type, "stackTrace": error.stack})
        except ApiGone:
            os._exit(EXIT_API_GONE)
        os._exit(EXIT_INIT_REPORTED)
    os.write(ready_fd, b"%d\n" % os.getpid())
    os.close(ready_fd)

    while True:
        try:
            status, headers, body = client.next()
        except ApiGone as error:
            log("ERROR", "Runtime API unreachable (%s); exiting" % error)
            os._exit(EXIT_API_GONE)
        if status != 200:
            # 403: the EE is stopping. Anything else is a protocol error worth a pause, not a spin.
            time.sleep(0.1)
            continue
        request_id = headers.get("Lambda-Runtime-Aws-Request-Id", "")
        _request_id = request_id
        trace_id = headers.get("Lambda-Runtime-Trace-Id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        try:
            run_invocation(client, handler, request_id, headers, body)
        except ApiGone as error:
            log("ERROR", "Runtime API unreachable (%s); exiting" % error)
            os._exit(EXIT_API_GONE)
        finally:
            sys.stdout.flush()
            _request_id = None
            os.environ.pop("_X_AMZN_TRACE_ID", None)


def run_invocation(client, handler, request_id, headers, body):
    try:
        event = json.loads(body) if body else {}
    except ValueError as error:
        client.fail(request_id, {"errorMessage": "Unable to unmarshal input: %s" % error, "errorType": "Runtime.UnmarshalError", "stackTrace": []})
        return
    started = now_micros()
    try:
        result = handler(event, LambdaContext(request_id, headers))
    except Exception as error:  # noqa: BLE001 - every handler exception is the invocation's error
        timing = (started, now_micros())
        failure = error_body(error)
        log("ERROR", "Invoke Error", **failure)
        client.fail(request_id, failure, timing)
        return
    timing = (started, now_micros())
    try:
        payload = json.dumps(result, default=_json_default).encode("utf-8")
    except (TypeError, ValueError) as error:
        client.fail(request_id, {"errorMessage": "Unable to marshal response: %s" % error, "errorType": "Runtime.MarshalError", "stackTrace": []}, timing)
        return
    client.respond(request_id, payload, timing)


# ------------------------------------------------------------------ parent process

def describe(status):
    if os.WIFSIGNALED(status):
        return "signal %d" % os.WTERMSIG(status)
    return "exit status %d" % os.WEXITSTATUS(status)


def main():
    if not API:
        sys.stderr.write("AWS_LAMBDA_RUNTIME_API is not set: this bootstrap runs inside a Hearth execution environment\n")
        sys.exit(1)
    # User modules come from the task root, never from this runtime's own directory.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, TASK_ROOT)
    try:
        count = max(1, int(os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY", "1")))
    except ValueError:
        count = 1

    ready_read, ready_write = os.pipe()
    os.set_blocking(ready_read, False)
    workers = {}
    ready = set()
    crashes = []

    def spawn():
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(ready_read)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                worker(ready_write)
            except BaseException:  # noqa: B902 - a worker must never return into the parent's loop
                traceback.print_exc()
                sys.stderr.flush()
            os._exit(1)
        workers[pid] = True

    def stop_all(sig):
        for pid in list(workers):
            try:
                os.kill(pid, sig)
            except OSError:
                pass

    def shut_down(code):
        # Reap the workers before leaving, so none lingers as a zombie for init to collect.
        stop_all(signal.SIGTERM)
        deadline = time.monotonic() + 1.0
        while workers and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.005)
            else:
                workers.pop(pid, None)
        stop_all(signal.SIGKILL)
        os._exit(code)

    def on_term(signum, _frame):
        shut_down(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    for _ in range(count):
        spawn()

    buffered = b""
    while workers:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        except OSError as error:
            if error.errno == errno.EINTR:
                continue
            raise
        # Ready lines were written before the worker could exit, so they are in the pipe now.
        while select.select([ready_read], [], [], 0)[0]:
            try:
                chunk = os.read(ready_read, 4096)
            except BlockingIOError:
                break
            if not chunk:
                break
            buffered += chunk
        *lines, buffered = buffered.split(b"\n")
        ready.update(int(line) for line in lines if line.strip())
        workers.pop(pid, None)
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        if code == EXIT_API_GONE:
            shut_down(EXIT_API_GONE)
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM:
            # The EE is being stopped: the group's SIGTERM reached this worker before the parent ran its handler.
            shut_down(128 + signal.SIGTERM)
        if pid not in ready:
            if code != EXIT_INIT_REPORTED:
                try:
                    Client().init_error({"errorMessage": "Worker exited during init: %s" % describe(status), "errorType": "Runtime.ExitError", "stackTrace": []})
                except ApiGone:
                    pass
            stop_all(signal.SIGKILL)
            sys.exit(1)
        ready.discard(pid)
        now = time.monotonic()
        crashes.append(now)
        crashes[:] = [at for at in crashes if at > now - 60]
        if len(crashes) > 10:
            log("ERROR", "workers crashed %d times within a minute; exiting" % len(crashes))
            stop_all(signal.SIGKILL)
            sys.exit(1)
        log("WARN", "worker %d ended (%s); starting another" % (pid, describe(status)))
        spawn()


if __name__ == "__main__":
    main()
