"""A job function for the harness that misbehaves on purpose, chosen by the job's ``behaviour``."""

import os
import signal
import time


def misbehave(job: dict, **options) -> dict:
    behaviour = job["behaviour"]
    if behaviour == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if behaviour == "hang":
        time.sleep(60)
    if behaviour == "sigkill":  # as the out-of-memory killer does
        os.kill(os.getpid(), signal.SIGKILL)
    if behaviour == "raise":
        raise ValueError("bad job")
    if behaviour == "memoryerror":
        raise MemoryError
    if behaviour == "exit":
        os._exit(0)
    return {
        "value": job["n"],
        "pid": os.getpid(),
        "session": os.getsid(0),
        "cores": sorted(os.sched_getaffinity(0)),
        "options": options,
        **({"status": behaviour} if behaviour == "diverged" else {}),
    }
