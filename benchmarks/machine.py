"""What the benchmarks record about the machine they ran on."""

import os
import platform
import time


def describe(load_before):
    """Platform, CPU count, and the load average before and after a run:
    a benchmark shares the machine with whatever else runs on it."""
    return {"platform": platform.platform(),
            "processor": platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d", time.gmtime())}
