"""Systems that answer: sync and async, with Scorecard's two-argument signature or just inputs."""

from __future__ import annotations

import asyncio
import os
import sys
import time


def run_system(inputs, system_config=None):
    return {"answer": inputs["question"].upper(), "systemConfig": system_config}


def inputs_only(inputs):
    return {"answer": inputs["question"][::-1]}


async def run_system_async(inputs, system_config):
    await asyncio.sleep(0.01)
    return {"answer": inputs["question"].lower(), "systemConfig": system_config}


def plain_value(inputs):
    return f"just a string for {inputs['question']}"


def sleeps(inputs):
    time.sleep(inputs["seconds"])
    return {"slept": inputs["seconds"]}


async def sleeps_async(inputs):
    await asyncio.sleep(inputs["seconds"])
    return {"slept": inputs["seconds"]}


def instant(inputs):
    return {"echo": inputs}


def noisy(inputs):
    print("a user's print goes to the logs, not the protocol")
    print('{"id": 0, "outputs": {"forged": true}}')
    return {"answer": inputs["question"]}


def environment(inputs):
    """Where the user's code runs: its working directory, import path and (empty) stdin."""
    return {"cwd": os.getcwd(), "path": sys.path, "stdin": sys.stdin.read()}


class Agent:
    """A method as the system: `agents.well_behaved:agent.answer`."""

    def __init__(self, greeting: str):
        self.greeting = greeting

    def answer(self, inputs, system_config=None):
        return {"answer": f"{self.greeting} {inputs['question']}"}


agent = Agent("hello")
NOT_A_FUNCTION = 42
