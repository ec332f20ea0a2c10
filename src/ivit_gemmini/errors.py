"""The one exception type that reaches users.

Every stage raises `UserError` for bad input (a missing checkpoint, an image that is not an
image, a wrong config key, a simulator that traps). Its message is one line that says what is
wrong and how to fix it; `ivit_gemmini.cli.run_stage` prints it and exits non-zero.
"""


class UserError(Exception):
    """A problem with the user's input or environment, explained in one line."""
