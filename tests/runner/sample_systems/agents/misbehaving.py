"""Systems that fail in the ways real ones do: raising, hanging, odd values, exiting the process."""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
import time


def raises(inputs):
    if inputs.get("fail"):
        raise ValueError("boom")
    return {"ok": True}


def hangs(inputs):
    if inputs.get("hang"):
        time.sleep(30)
    return {"ok": True}


async def hangs_async(inputs):
    if inputs.get("hang"):
        await asyncio.sleep(30)
    return {"ok": True}


def not_json(inputs):
    return {"tags": {"a", "b"}}


def crashes(inputs):
    """Dies hard mid-call on request (as an OOM kill would), after a last word on stderr."""
    time.sleep(inputs.get("seconds", 0))
    if inputs.get("crash"):
        print("about to crash", file=sys.stderr, flush=True)
        os._exit(3)
    return {"pid": os.getpid()}


def segfaults(inputs):
    if inputs.get("crash"):
        ctypes.string_at(0)  # reads address 0: SIGSEGV, as a buggy native extension would
    return {"pid": os.getpid()}


def exits(inputs):
    if inputs.get("exit"):
        sys.exit(4)
    return {"pid": os.getpid()}


def wants_three(inputs, system_config, extra):
    return {}


async def blocks_async(inputs):
    """An `async def` that blocks its event loop on request (time.sleep instead of asyncio.sleep)."""
    if inputs.get("block"):
        time.sleep(30)
    await asyncio.sleep(inputs.get("seconds", 0))
    return {"pid": os.getpid()}
