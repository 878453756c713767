"""A stand-in for suite.worker whose jobs misbehave on purpose, chosen by hidden_size:
1 ok, 2 segfault, 3 hang, 4 killed by SIGKILL (as the OOM killer does), 5 Python error."""

import json
import os
import signal
import sys
import time


def main(spec_path, out_path):
    spec = json.loads(open(spec_path).read())
    with open(out_path, "a") as out:
        for w in spec["workloads"]:
            key = (
                f"{w['framework']}/{w['cell']}/{w['mode']}/T{w['seq_len']}/B{w['batch']}/I{w['input_size']}"
                f"/H{w['hidden_size']}/L{w['num_layers']}/{w['dtype']}/{w['device']}"
            )
            out.write(json.dumps({"event": "start", "key": key}) + "\n")
            out.flush()
            behaviour = w["hidden_size"]
            if behaviour == 2:
                os.kill(os.getpid(), signal.SIGSEGV)
            if behaviour == 3:
                time.sleep(60)
            if behaviour == 4:
                os.kill(os.getpid(), signal.SIGKILL)
            status = "error" if behaviour == 5 else "ok"
            out.write(json.dumps({"event": "done", "key": key, "status": status, "median_s": 1.0}) + "\n")
            out.flush()


if __name__ == "__main__":
    main(*sys.argv[1:3])
