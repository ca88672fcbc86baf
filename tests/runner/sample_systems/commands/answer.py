"""A command-line system: inputs as JSON on stdin, outputs as JSON on stdout, logs on stderr."""

import json
import os
import subprocess
import sys
import time

inputs = json.load(sys.stdin)
config = json.loads(os.environ.get("SCORECARD_SYSTEM_CONFIG", "null"))
print(f"answering {inputs}", file=sys.stderr)
if inputs.get("fail"):
    print("the model refused", file=sys.stderr)
    sys.exit(2)
if inputs.get("garbage"):
    print("this is not json")
    sys.exit(0)
if inputs.get("hang"):
    # A child in the same process group must die with us on timeout.
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    with open(inputs["child_pid_file"], "w") as pid_file:
        pid_file.write(str(child.pid))
    time.sleep(30)
json.dump({"answer": inputs["question"].upper(), "systemConfig": config}, sys.stdout)
