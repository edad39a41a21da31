"""The local stack launcher: the code behind ``make run`` and the end-to-end tests' live stack."""
